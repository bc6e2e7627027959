/**
 * Time to upgrade, Deno peers: pairs two fresh peers (node-datachannel WebRTC) again and again
 * and times each pairing from the first `peer.found` to the moment both ends have their
 * DataChannel open (`upgrade`). Prints `progress` lines and one `result`.
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

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0]) as UpgradeConfig;
  const samples: number[] = [];
  let failures = 0;
  const total = config.warmup + config.count;
  const prefix = `upgrade-${Date.now().toString(36)}`;
  for (let i = 0; i < total; i++) {
    const ms = await pairing(config.url, `${prefix}-${i}`, config.timeoutMs);
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
