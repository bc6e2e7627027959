/**
 * Time to upgrade, Deno peers: pairs two fresh peers (node-datachannel WebRTC) again and again
 * and times each pairing from the first `peer.found` to the moment both ends have their
 * DataChannel open (`upgrade`). Prints `progress` lines and one `result` (`retried`: pairings
 * whose first attempt failed).
 *
 * With `raw: true`, the baseline: two bare node-datachannel connections in this process,
 * candidates handed over at once (no server, no SocketPeer), timed from the connections' creation
 * to both ends' channel open: what node-datachannel itself takes. The offer is the one SocketPeer
 * sends (`a=setup:active`, see `asDtlsClientOffer`), so that both measure the same handshake;
 * `rawRoles: "default"` leaves the offer as node-datachannel makes it (`actpass`, the answerer
 * is the DTLS client). No retry: an attempt that fails counts as a failure.
 *
 * @module
 */
import { SocketPeer } from "../../client.ts";
import { asDtlsClientOffer } from "../../client/negotiator.ts";
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
  /** The baseline's DTLS roles: SocketPeer's (the default), or node-datachannel's own. */
  rawRoles?: "socketpeer" | "default";
}

/** One timed pairing. */
interface Pairing {
  /** Milliseconds from the first `peer.found` to both ends upgraded; null when it did not. */
  ms: number | null;
  /** Upgrade attempts that failed before that (the initiator's `upgrade_error`s). */
  failedAttempts: number;
}

/** Times one pairing, giving up after `timeoutMs`. */
async function pairing(url: string, pairCode: string, timeoutMs: number): Promise<Pairing> {
  const peers = [0, 1].map(() =>
    new SocketPeer({ url, pairCode, serialization: "raw", wrtc: nodeWrtc })
  );
  const found: number[] = [];
  const open: number[] = [];
  let failedAttempts = 0;
  const upgraded = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    for (const peer of peers) {
      peer.once("peer.found", () => found.push(performance.now()));
      peer.on("upgrade_error", () => {
        if (peer.initiator) failedAttempts++;
      });
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
  return { ms: ok ? Math.max(...open) - Math.min(...found) : null, failedAttempts };
}

/** Times one bare node-datachannel connection; null when it did not open within `timeoutMs`. */
async function rawPairing(
  timeoutMs: number,
  roles: "socketpeer" | "default",
): Promise<number | null> {
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
      const offer = a.localDescription!.sdp;
      await b.setRemoteDescription({
        type: "offer",
        sdp: roles === "socketpeer" ? asDtlsClientOffer(offer) : offer,
      });
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
  let retried = 0;
  const total = config.warmup + config.count;
  const prefix = `upgrade-${Date.now().toString(36)}`;
  for (let i = 0; i < total; i++) {
    const { ms, failedAttempts } = config.raw
      ? {
        ms: await rawPairing(config.timeoutMs, config.rawRoles ?? "socketpeer"),
        failedAttempts: 0,
      }
      : await pairing(config.url, `${prefix}-${i}`, config.timeoutMs);
    if (i >= config.warmup) {
      if (ms === null) failures++;
      else samples.push(Math.round(ms * 1000) / 1000);
      if (failedAttempts > 0) retried++;
    }
    // node-datachannel closes connections on its own threads: let it.
    await sleep(30);
    if ((i + 1) % 10 === 0 || i + 1 === total) emit({ event: "progress", done: i + 1, total });
  }
  emit({ event: "result", samples, failures, retried, attempts: config.count });
  await sleep(150);
  Deno.exit(0);
}
