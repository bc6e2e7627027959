/**
 * The benchmark page for Chromium. It loads the SocketPeer browser bundle
 * (`/socketpeer/socketpeer.js`) and defines, from their source, the very workload and link
 * functions the Deno load generators use, plus the few page-side steps below that the browser
 * driver calls through `page.evaluate`.
 *
 * @module
 */
import type { SocketPeer, SocketPeerOptions } from "../../client.ts";
import * as links from "./links.ts";
import * as workload from "./workload.ts";
import type { Driver } from "./workload.ts";

/** The page's globals, as seen from `page.evaluate`. */
export interface BenchPage {
  SocketPeer: typeof SocketPeer;
  RTCPeerConnection: typeof RTCPeerConnection | undefined;
  peer?: SocketPeer;
  pc?: RTCPeerConnection;
  channel?: RTCDataChannel;
  driver?: Driver;
  startPeer(pairCode: string, relayOnly: boolean, role: "sender" | "receiver"): Promise<string>;
  rawOffer(): Promise<string>;
  rawAnswer(sdp: string): Promise<string>;
  rawAccept(sdp: string): Promise<void>;
  rawStart(role: "sender" | "receiver"): Promise<void>;
  upgradeOnce(pairCode: string, timeoutMs: number): Promise<{ found: number; open: number }>;
  progressToken(): string;
}

/**
 * What changes while a case makes progress: messages the driver moved, and the bytes waiting
 * in SocketPeer's or the channel's buffer (they shrink while a backlog drains).
 */
function progressToken(): string {
  const page = globalThis as unknown as BenchPage;
  return JSON.stringify([
    page.driver?.progress(),
    page.peer?.bufferedAmount,
    page.channel?.bufferedAmount,
  ]);
}

/** Epoch milliseconds with sub-millisecond precision, comparable between pages. */
function pageClock(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Makes the page's peer and waits until it is paired (and on the direct path unless
 * `relayOnly`, which hides RTCPeerConnection from it as in a browser without WebRTC).
 * Resolves with the path in use.
 */
async function startPeer(
  pairCode: string,
  relayOnly: boolean,
  role: "sender" | "receiver",
): Promise<string> {
  const page = globalThis as unknown as BenchPage;
  if (relayOnly) page.RTCPeerConnection = undefined;
  const peer = new page.SocketPeer({ pairCode, serialization: "raw" } as SocketPeerOptions);
  page.peer = peer;
  const link = links.peerLink(peer);
  if (role === "receiver") workload.respond(link);
  else page.driver = workload.drive(link);
  const want = relayOnly ? "relay" : "p2p";
  const deadline = Date.now() + 20_000;
  while (!(peer.connected && peer.path === want)) {
    if (Date.now() > deadline) throw new Error(`no ${want} path within 20 s (${peer.path})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return peer.path as string;
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") resolve();
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
}

/** Raw DataChannel, offering side: makes the channel and returns the full offer. */
async function rawOffer(): Promise<string> {
  const page = globalThis as unknown as BenchPage;
  const pc = new RTCPeerConnection();
  page.pc = pc;
  page.channel = pc.createDataChannel("bench", { ordered: true });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  return pc.localDescription!.sdp;
}

/** Raw DataChannel, answering side: takes the offer and returns the full answer. */
async function rawAnswer(sdp: string): Promise<string> {
  const page = globalThis as unknown as BenchPage;
  const pc = new RTCPeerConnection();
  page.pc = pc;
  pc.addEventListener("datachannel", (event) => page.channel = event.channel);
  await pc.setRemoteDescription({ type: "offer", sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  return pc.localDescription!.sdp;
}

/** Raw DataChannel, offering side: takes the answer. */
async function rawAccept(sdp: string): Promise<void> {
  await (globalThis as unknown as BenchPage).pc!.setRemoteDescription({ type: "answer", sdp });
}

/** Waits for the raw channel to open and starts this page's end of the workloads. */
async function rawStart(role: "sender" | "receiver"): Promise<void> {
  const page = globalThis as unknown as BenchPage;
  while (page.channel?.readyState !== "open") {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const link = links.channelLink(page.channel, page.pc?.sctp?.maxMessageSize);
  if (role === "receiver") workload.respond(link);
  else page.driver = workload.drive(link);
}

/**
 * One pairing for time to upgrade: a fresh peer on `pairCode`; resolves with the page clock at
 * `peer.found` and at `upgrade` (0 when it did not come within `timeoutMs`), then closes it.
 */
async function upgradeOnce(
  pairCode: string,
  timeoutMs: number,
): Promise<{ found: number; open: number }> {
  const page = globalThis as unknown as BenchPage;
  const peer = new page.SocketPeer({ pairCode, serialization: "raw" } as SocketPeerOptions);
  const times = { found: 0, open: 0 };
  peer.on("peer.found", () => times.found ||= pageClock());
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    peer.on("upgrade", () => {
      times.open = pageClock();
      clearTimeout(timer);
      resolve();
    });
  });
  // Let the partner see its own channel open before this side closes it.
  await new Promise((resolve) => setTimeout(resolve, 50));
  peer.close();
  return times;
}

/** Every function of the harness, and the page's own steps, by their source. */
const PAGE_FUNCTIONS = [
  ...Object.values(workload).filter((f) => typeof f === "function"),
  ...Object.values(links).filter((f) => typeof f === "function"),
  pageClock,
  progressToken,
  startPeer,
  gathered,
  rawOffer,
  rawAnswer,
  rawAccept,
  rawStart,
  upgradeOnce,
];

/** The page, served at `/bench.html` by the SocketPeer benchmark server. */
export const BENCH_PAGE_HTML = `<!doctype html>
<meta charset="utf-8">
<title>SocketPeer benchmark</title>
<script src="/socketpeer/socketpeer.js"></script>
<script>
${PAGE_FUNCTIONS.join("\n")}
const workload = { respond, drive };
const links = { peerLink, channelLink };
</script>
`;
