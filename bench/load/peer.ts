/**
 * A load generator: one end of one path, alone in its process. The receiver answers (counts
 * streams, echoes pings); the sender runs the tasks it was given once the orchestrator says
 * `go`, printing `task-start` and `task-done` lines, then `finished`.
 *
 * ```sh
 * deno run -A bench/load/peer.ts '{"path":"ws","role":"receiver","url":"ws://127.0.0.1:1234","code":"x"}'
 * ```
 *
 * @module
 */
import { io } from "npm:socket.io-client@4.8.1";
import { SocketPeer } from "../../client.ts";
import { channelLink, peerLink, type Transport, windowedLink } from "../harness/links.ts";
import { drive, type Link, type Message, respond, type StreamCase } from "../harness/workload.ts";
import { emit, serveControl } from "../servers/control.ts";
import { nodeWrtc, sleep, until } from "../../tests/_fixtures.ts";

/** The paths a Deno load generator can take. */
export type DenoPath =
  | "socketpeer-relay"
  | "socketpeer-relay-views"
  | "socketpeer-direct"
  | "socketio"
  | "ws"
  | "datachannel";

/** One thing the sender does. */
export type Task =
  | { kind: "stream"; case: StreamCase }
  | { kind: "pingpong"; count: number; warmup: number }
  | { kind: "openloop"; rate: number; durationMs: number };

/** The argument of this script. */
export interface PeerConfig {
  path: DenoPath;
  role: "sender" | "receiver";
  /** SocketPeer URL; `http://…` of the socket.io server; `ws://…` of the raw relay. */
  url: string;
  /** The pair code (room, relay code). */
  code: string;
  /** The sender's work. */
  tasks?: Task[];
}

/** A connected end: its link and how to close it. */
interface End {
  link: Link;
  close(): Promise<void>;
  /** Bytes the end still holds to send, where it tells (SocketPeer). */
  buffered?(): number;
}

async function socketPeerEnd(config: PeerConfig): Promise<End> {
  const direct = config.path === "socketpeer-direct";
  const wrtc = direct ? nodeWrtc : undefined;
  const peer = new SocketPeer({
    url: config.url,
    pairCode: config.code,
    serialization: "raw",
    ...(config.path === "socketpeer-relay-views" ? { binaryType: "uint8array" as const } : {}),
    ...(wrtc ? { wrtc } : {}),
  });
  peer.on("error", (err) => console.error(`${config.role}: ${err.code} ${err.message}`));
  // Warnings are what the peer recovers from (a dropped slow consumer, a rate warning): say
  // so, once per code, since a run that slows down for one should show why.
  const warned = new Set<string>();
  peer.on("warning", (w) => {
    if (warned.has(w.code)) return;
    warned.add(w.code);
    console.error(`${config.role}: warning ${w.code} ${w.message}`);
  });
  peer.on("reconnect", () => console.error(`${config.role}: reconnected to the partner`));
  const want = direct ? "p2p" : "relay";
  await until(() => peer.connected && peer.path === want, `path ${want}`);
  return {
    link: peerLink(peer),
    buffered: () => peer.bufferedAmount,
    async close() {
      peer.close();
      if (direct) await sleep(150);
    },
  };
}

async function socketIoEnd(config: PeerConfig): Promise<End> {
  const socket = io(config.url, { transports: ["websocket"], reconnection: false });
  const paired = new Promise<void>((resolve) => socket.once("paired", () => resolve()));
  socket.on("connect", () => socket.emit("join", config.code));
  await paired;
  const transport: Transport = {
    send: (data) => socket.emit("data", data),
    onMessage: (handler) => socket.on("data", (data: Message) => handler(data)),
  };
  return {
    link: windowedLink(transport),
    close: () => Promise.resolve(void socket.disconnect()),
  };
}

/** Opens a raw relay socket and waits until it is paired. */
async function relaySocket(url: string, code: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url}/relay?code=${encodeURIComponent(code)}`);
  ws.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    ws.onmessage = (event) => event.data === "paired" && resolve();
    ws.onerror = (event) => reject(new Error(`relay socket: ${(event as ErrorEvent).message}`));
  });
  ws.onerror = null;
  return ws;
}

async function wsEnd(config: PeerConfig): Promise<End> {
  const ws = await relaySocket(config.url, config.code);
  const transport: Transport = {
    send: (data) => ws.send(data as string & Uint8Array<ArrayBuffer>),
    onMessage: (handler) => ws.onmessage = (event) => handler(event.data),
  };
  return { link: windowedLink(transport), close: () => Promise.resolve(ws.close()) };
}

/** A raw node-datachannel channel, signalled once (full SDP, no trickle) over the raw relay. */
async function dataChannelEnd(config: PeerConfig): Promise<End> {
  const ws = await relaySocket(config.url, `${config.code}-signal`);
  const remote = new Promise<string>((resolve) => ws.onmessage = (e) => resolve(e.data));
  const pc = new nodeWrtc.RTCPeerConnection();
  const gathered = () =>
    new Promise<void>((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
    });
  let channel: RTCDataChannel;
  if (config.role === "sender") {
    channel = pc.createDataChannel("bench", { ordered: true });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered();
    ws.send(pc.localDescription!.sdp);
    await pc.setRemoteDescription({ type: "answer", sdp: await remote });
  } else {
    const incoming = new Promise<RTCDataChannel>((resolve) =>
      pc.ondatachannel = (event) => resolve(event.channel)
    );
    await pc.setRemoteDescription({ type: "offer", sdp: await remote });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered();
    ws.send(pc.localDescription!.sdp);
    channel = await incoming;
  }
  await until(() => channel.readyState === "open", "the DataChannel opens");
  ws.close();
  return {
    link: channelLink(channel, pc.sctp?.maxMessageSize ?? undefined),
    async close() {
      channel.close();
      pc.close();
      await sleep(150);
    },
  };
}

const ENDS: Record<DenoPath, (config: PeerConfig) => Promise<End>> = {
  "socketpeer-relay": socketPeerEnd,
  "socketpeer-relay-views": socketPeerEnd,
  "socketpeer-direct": socketPeerEnd,
  socketio: socketIoEnd,
  ws: wsEnd,
  datachannel: dataChannelEnd,
};

async function run(end: End, tasks: Task[]): Promise<void> {
  const driver = drive(end.link);
  // What changes while work gets done, for the orchestrator to tell slow from stuck.
  const ticker = setInterval(() => {
    emit({ event: "progress", token: `${driver.progress()}/${end.buffered?.() ?? ""}` });
  }, 2000);
  // One ping and an unmeasured stream first: the receiver listens, and both ends and the
  // server have compiled their hot paths.
  await driver.pingPong(1, 0);
  await driver.stream({ size: 16 * 1024, binary: true, warmupMs: 300, measureMs: 300 });
  for (const [index, task] of tasks.entries()) {
    emit({ event: "task-start", index });
    const result = task.kind === "stream"
      ? await driver.stream(task.case)
      : task.kind === "pingpong"
      ? await driver.pingPong(task.count, task.warmup)
      : await driver.openLoop(task.rate, task.durationMs);
    emit({ event: "task-done", index, result });
  }
  clearInterval(ticker);
  emit({ event: "finished" });
}

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0]) as PeerConfig;
  let end: End;
  try {
    end = await ENDS[config.path](config);
  } catch (err) {
    emit({ event: "fatal", error: String(err) });
    Deno.exit(1);
  }
  if (config.role === "receiver") respond(end.link);
  emit({ event: "ready" });
  await serveControl({
    go: () => {
      run(end, config.tasks ?? []).catch((err) => emit({ event: "fatal", error: String(err) }));
      return {};
    },
  }, () => end.close());
}
