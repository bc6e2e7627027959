/**
 * Time to upgrade, Deno peers: pairs two fresh peers (node-datachannel WebRTC) again and again
 * and times each pairing from the first `peer.found` to the moment both ends have their
 * DataChannel open (`upgrade`). Prints `progress` lines and one `result`.
 *
 * With `raw: true`, the baseline: two bare node-datachannel connections in this process,
 * candidates handed over at once (no server, no SocketPeer), timed from `createOffer` to both
 * ends' channel open: what node-datachannel itself takes.
 *
 * @module
 */
import { SocketPeer } from "../../client.ts";
import { nodeWrtc, sleep } from "../../tests/_fixtures.ts";
import { emit } from "../servers/control.ts";

/** The argument of this script. */
export interface UpgradeConfig {
  url: string;
  /** Timed pairings. */
  count: number;
  /** Untimed pairings first. */
  warmup: number;
  /** A pairing that has not upgraded by then counts as failed. */
  timeoutMs: number;
  /** Time bare node-datachannel connections instead (the baseline). */
  raw?: boolean;
}

/** Times one pairing; null when it did not upgrade within `timeoutMs`. */
async function pairing(url: string, pairCode: string, timeoutMs: number): Promise<number | null> {
  const peers = [0, 1].map(() =>
    new SocketPeer({ url, pairCode, serialization: "raw", wrtc: nodeWrtc })
  );
  const found: number[] = [];
  const open: number[] = [];
  const upgraded = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    for (const peer of peers) {
      peer.once("peer.found", () => found.push(performance.now()));
      peer.once("upgrade", () => {
        open.push(performance.now());
        if (open.length === 2) {
          clearTimeout(timer);
          resolve(true);
        }
      });
    }
  });
  const ok = await upgraded;
  for (const peer of peers) peer.close();
  return ok ? Math.max(...open) - Math.min(...found) : null;
}

/** Times one bare node-datachannel connection; null when it did not open within `timeoutMs`. */
async function rawPairing(timeoutMs: number): Promise<number | null> {
  const start = performance.now();
  const a = new nodeWrtc.RTCPeerConnection();
  const b = new nodeWrtc.RTCPeerConnection();
  // Candidates wait until their connection has its remote description, as SocketPeer's do.
  const ready = new Map<RTCPeerConnection, RTCIceCandidateInit[] | null>([[a, []], [b, []]]);
  const hand = (to: RTCPeerConnection) => (event: RTCPeerConnectionIceEvent) => {
    if (!event.candidate) return;
    const queue = ready.get(to);
    if (queue) queue.push(event.candidate.toJSON());
    else to.addIceCandidate(event.candidate).catch(() => {});
  };
  const remoteSet = async (pc: RTCPeerConnection) => {
    const queue = ready.get(pc) ?? [];
    ready.set(pc, null);
    for (const candidate of queue) await pc.addIceCandidate(candidate).catch(() => {});
  };
  a.onicecandidate = hand(b);
  b.onicecandidate = hand(a);
  const channel = a.createDataChannel("bench");
  const opened = Promise.all([
    new Promise((resolve) => channel.onopen = resolve),
    new Promise((resolve) => {
      b.ondatachannel = (event) => {
        if (event.channel.readyState === "open") resolve(true);
        else event.channel.onopen = resolve;
      };
    }),
  ]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) =>
    timer = setTimeout(() => resolve(false), timeoutMs)
  );
  const ok = await Promise.race([
    (async () => {
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription!);
      await remoteSet(b);
      await b.setLocalDescription(await b.createAnswer());
      await a.setRemoteDescription(b.localDescription!);
      await remoteSet(a);
      await opened;
      return true;
    })(),
    timeout,
  ]);
  clearTimeout(timer);
  const ms = performance.now() - start;
  channel.close();
  a.close();
  b.close();
  return ok ? ms : null;
}

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0]) as UpgradeConfig;
  const samples: number[] = [];
  let failures = 0;
  const total = config.warmup + config.count;
  const prefix = `upgrade-${Date.now().toString(36)}`;
  for (let i = 0; i < total; i++) {
    const ms = config.raw
      ? await rawPairing(config.timeoutMs)
      : await pairing(config.url, `${prefix}-${i}`, config.timeoutMs);
    if (i >= config.warmup) {
      if (ms === null) failures++;
      else samples.push(Math.round(ms * 1000) / 1000);
    }
    // node-datachannel closes connections on its own threads: let it.
    await sleep(30);
    if ((i + 1) % 10 === 0 || i + 1 === total) emit({ event: "progress", done: i + 1, total });
  }
  emit({ event: "result", samples, failures, attempts: config.count });
  await sleep(150);
  Deno.exit(0);
}
