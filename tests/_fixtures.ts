/**
 * Shared fixtures of the integration tests: a server on a free loopback port,
 * pairs of Deno peers (with or without WebRTC from node-datachannel), and
 * ways to wait for events and numbered message streams.
 *
 * @module
 */
import * as wrtc from "npm:node-datachannel@0.33.4/polyfill";
import { SocketPeer, type SocketPeerOptions } from "../client.ts";
import { SocketPeerServer, type SocketPeerServerOptions } from "../server.ts";
import type { Emitter, EventMap } from "../protocol/emitter.ts";

/** node-datachannel's W3C RTCPeerConnection, as the `wrtc` option takes it. */
export const nodeWrtc = wrtc as unknown as { RTCPeerConnection: typeof RTCPeerConnection };

/** Options that make integration tests quick: loopback, short backoff. */
export const FAST = { reconnectDelay: 100 } as const;

/** Starts a server on 127.0.0.1 and a free port. */
export async function startServer(
  options: SocketPeerServerOptions = {},
): Promise<SocketPeerServer & AsyncDisposable> {
  const server = new SocketPeerServer({ port: 0, host: "127.0.0.1", ...options });
  await server.ready;
  return Object.assign(server, { [Symbol.asyncDispose]: () => server.close() });
}

/** A peer that closes itself when disposed. */
export type TestPeer = SocketPeer & Disposable & AsyncDisposable;

/**
 * Makes a peer that closes itself when disposed. `await using` also waits a
 * moment after closing: node-datachannel finishes closing on its own threads,
 * and a test module that ends before it does can crash the process on exit.
 */
export function peer(url: string, options: SocketPeerOptions = {}): TestPeer {
  const p = new SocketPeer({ url, ...FAST, ...options });
  return Object.assign(p, {
    [Symbol.dispose]: () => p.close(),
    [Symbol.asyncDispose]: async () => {
      p.close();
      if (p.options.wrtc) await sleep(100);
    },
  });
}

/** Makes two peers with one pair code; `webrtc` gives both node-datachannel. */
export function pairOf(
  url: string,
  pairCode: string,
  options: SocketPeerOptions & { webrtc?: boolean } = {},
): [TestPeer, TestPeer] {
  const { webrtc, ...rest } = options;
  const extra = webrtc ? { wrtc: nodeWrtc } : {};
  return [
    peer(url, { pairCode, ...extra, ...rest }),
    peer(url, { pairCode, ...extra, ...rest }),
  ];
}

/**
 * Resolves with the arguments of the next `event`, or rejects after `ms`
 * naming the event.
 */
export function next<E extends EventMap, K extends keyof E & string>(
  emitter: Emitter<E>,
  event: K,
  ms = 15_000,
): Promise<E[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    const listener = (...args: E[K]) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, listener as never);
  });
}

/** Polls `check` every 10 ms until it is true, or rejects after `ms` with `what`. */
export async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until both peers are paired with each other. */
export async function paired(a: SocketPeer, b: SocketPeer): Promise<void> {
  await until(() => a.connected && b.connected, "both peers are paired");
}

/** Waits until both peers send on the direct path. */
export async function upgraded(a: SocketPeer, b: SocketPeer, ms = 20_000): Promise<void> {
  await until(() => a.path === "p2p" && b.path === "p2p", "both peers are upgraded", ms);
}

/** Records every `data` of a peer. */
export function record(p: SocketPeer): unknown[] {
  const received: unknown[] = [];
  p.on("data", (d) => received.push(d));
  return received;
}

/** How a numbered stream 0..n-1 arrived. */
export interface Tally {
  sent: number;
  received: number;
  lost: number;
  duplicated: number;
  /** Messages that came after a higher number. */
  reordered: number;
}

/** Counts what was lost, duplicated and reordered of 0..n-1 in `received`. */
export function tally(received: unknown[], n: number): Tally {
  const seen = new Set<number>();
  let duplicated = 0;
  let reordered = 0;
  let highest = -1;
  for (const value of received) {
    const i = value as number;
    if (seen.has(i)) duplicated++;
    else if (i < highest) reordered++;
    seen.add(i);
    highest = Math.max(highest, i);
  }
  let lost = 0;
  for (let i = 0; i < n; i++) if (!seen.has(i)) lost++;
  return { sent: n, received: received.length, lost, duplicated, reordered };
}

/**
 * Checks that `received` is exactly 0..n-1 in order; returns a summary of
 * what is wrong (lost, duplicated, reordered), or null when it is exact.
 */
export function sequenceProblems(received: unknown[], n: number): string | null {
  const { lost, duplicated, reordered } = tally(received, n);
  if (lost === 0 && duplicated === 0 && reordered === 0 && received.length === n) return null;
  return `lost ${lost}, duplicated ${duplicated}, reordered ${reordered}, got ${received.length}/${n}`;
}

/**
 * Sends the numbers 0..n-1, yielding every ten so that paths can switch (or
 * a fault be injected by `onProgress`) mid-stream.
 */
export async function stream(
  from: SocketPeer,
  n: number,
  onProgress?: (sent: number) => Promise<void> | void,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    from.send(i);
    if (i % 10 === 9) {
      await sleep(2);
      await onProgress?.(i + 1);
    }
  }
}

/** A pause, for letting messages be in flight before a fault is injected. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
