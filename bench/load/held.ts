/**
 * Sockets held, one client process: opens relay-only pairs on command and keeps them idle; on
 * command, makes some of them active (each pair pings at a fixed rate, open loop, and its
 * partner echoes) and reports the round-trip times.
 *
 * Commands (stdin): `add <pairs>` → `{"event":"add","pairs":…,"failures":…}`;
 * `active <pairs> <rate per pair per s> <ms>` → `{"event":"active","rtts":[…],"sent":…,"lost":…}`.
 *
 * With `kind` `"socketio"` or `"ws"`, it holds pairs on a baseline instead (a socket.io room
 * relay, the raw WebSocket relay): bare sockets, joined two by two; `active` is not offered.
 *
 * @module
 */
import { io } from "npm:socket.io-client@4.8.1";
import { SocketPeer } from "../../client.ts";
import { flagOf, makePing, pingStamp } from "../harness/workload.ts";
import { emit, serveControl } from "../servers/control.ts";

/** The argument of this script. */
export interface HeldConfig {
  url: string;
  /** Makes this process's pair codes unique. */
  prefix: string;
  /** Pairings opened at once. */
  batch: number;
  /** What holds the pairs. @default {"socketpeer"} */
  kind?: "socketpeer" | "socketio" | "ws";
}

const config = JSON.parse(Deno.args[0] ?? "{}") as HeldConfig;
const pairs: [SocketPeer, SocketPeer][] = [];
/** Closes the baseline sockets. */
const closers: (() => void)[] = [];
let onRtt: ((rtt: number) => void) | null = null;

/** Opens one pair of bare sockets on a baseline relay; false when it did not pair in time. */
function openBare(code: string): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 60_000);
    let joined = 0;
    const done = () => {
      if (++joined === 2) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    for (let i = 0; i < 2; i++) {
      if (config.kind === "ws") {
        const ws = new WebSocket(`${config.url}/relay?code=${code}`);
        ws.onmessage = (event) => event.data === "paired" && done();
        closers.push(() => ws.close());
      } else {
        const socket = io(config.url, { transports: ["websocket"], forceNew: true });
        socket.on("connect", () => socket.emit("join", code));
        socket.once("paired", done);
        closers.push(() => socket.disconnect());
      }
    }
  });
}

function open(pairCode: string): Promise<[SocketPeer, SocketPeer] | null> {
  const options = { url: config.url, pairCode, serialization: "raw" as const };
  const a = new SocketPeer(options);
  const b = new SocketPeer(options);
  b.on("data", (data) => flagOf(data as ArrayBuffer) === "p" && b.send(data));
  a.on("data", (data) => {
    if (flagOf(data as ArrayBuffer) === "p") {
      onRtt?.(performance.now() - pingStamp(data as ArrayBuffer));
    }
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      a.close();
      b.close();
      resolve(null);
    }, 60_000);
    const check = () => {
      if (a.connected && b.connected) {
        clearTimeout(timer);
        resolve([a, b]);
      }
    };
    a.once("connect", check);
    b.once("connect", check);
  });
}

let bare = 0;
let codes = 0;

async function add(count: number): Promise<Record<string, unknown>> {
  const start = performance.now();
  let failures = 0;
  for (let done = 0; done < count;) {
    const batch = Math.min(config.batch, count - done);
    if (config.kind && config.kind !== "socketpeer") {
      const opened = await Promise.all(
        Array.from({ length: batch }, () => openBare(`${config.prefix}-${codes++}`)),
      );
      failures += opened.filter((ok) => !ok).length;
      bare += opened.filter((ok) => ok).length;
    } else {
      const opened = await Promise.all(
        Array.from({ length: batch }, (_, i) => open(`${config.prefix}-${pairs.length + i}`)),
      );
      for (const pair of opened) {
        if (pair) pairs.push(pair);
        else failures++;
      }
    }
    done += batch;
  }
  return {
    pairs: pairs.length + bare,
    failures,
    seconds: (performance.now() - start) / 1000,
  };
}

async function active(count: number, rate: number, ms: number): Promise<Record<string, unknown>> {
  const rtts: number[] = [];
  onRtt = (rtt) => rtts.push(Math.round(rtt * 1000) / 1000);
  const interval = 1000 / rate;
  const senders = pairs.slice(0, count).map(([a]) => ({
    peer: a,
    phase: Math.random() * interval,
    k: 0,
  }));
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < ms) {
    const now = performance.now();
    for (const s of senders) {
      for (
        let due = start + s.phase + s.k * interval;
        due <= now && due - start < ms;
        due += interval
      ) {
        s.peer.send(makePing(due));
        s.k++;
        sent++;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const deadline = performance.now() + 3000;
  while (rtts.length < sent && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  onRtt = null;
  return { rtts, sent, lost: sent - rtts.length };
}

emit({ event: "ready" });
await serveControl({
  add: (arg) => add(Number(arg)),
  active: (arg) => {
    const [count, rate, ms] = arg.split(" ").map(Number);
    return active(count, rate, ms);
  },
}, () => {
  for (const [a, b] of pairs) {
    a.close();
    b.close();
  }
  for (const close of closers) close();
});
