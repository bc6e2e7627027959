/**
 * Relaying across nodes vs on one node: throughput and round-trip latency of
 * the relay between two Deno peers, both on one cluster node, or on two
 * nodes of one Redis. Standalone: starts its own redis-server (`$REDIS_SERVER`
 * or `redis-server` on PATH) and two nodes (tests/_cluster_node.ts, relay
 * rate lifted), all on loopback, and prints a table.
 *
 * ```sh
 * deno run -A bench/cluster.ts [--megabytes 64] [--round-trips 500]
 * ```
 *
 * On one machine every hop is loopback, so the cross-node cost shown is the
 * Redis hop and the extra serialization, not a network.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { SocketPeer } from "../client.ts";
import { startNode } from "../tests/_cluster.ts";
import { next, paired, peer } from "../tests/_fixtures.ts";
import { startRedis } from "../tests/_redis.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    megabytes: { type: "string", default: "64" },
    "round-trips": { type: "string", default: "500" },
  },
});
const MEGABYTES = Number(values.megabytes);
const ROUND_TRIPS = Number(values["round-trips"]);
const MESSAGE = new Uint8Array(16 * 1024).map((_, i) => i % 251);

/** Sends MEGABYTES from a to b in 16 KiB messages; resolves with MB/s. */
async function throughput(a: SocketPeer, b: SocketPeer): Promise<number> {
  const total = MEGABYTES * 1024 * 1024;
  let received = 0;
  const done = new Promise<void>((resolve) => {
    const onData = (data: unknown) => {
      received += (data as ArrayBuffer).byteLength;
      if (received >= total) {
        b.off("data", onData);
        resolve();
      }
    };
    b.on("data", onData);
  });
  const start = performance.now();
  for (let sent = 0; sent < total; sent += MESSAGE.byteLength) {
    if (!a.send(MESSAGE)) await next(a, "drain", 60_000);
  }
  await done;
  return MEGABYTES / ((performance.now() - start) / 1000);
}

/** Ping-pong of small messages, one at a time; resolves with sorted RTTs in ms. */
async function roundTrips(a: SocketPeer, b: SocketPeer): Promise<number[]> {
  const echo = (data: unknown) => b.send(data);
  b.on("data", echo);
  const rtts: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const start = performance.now();
    const back = next(a, "data");
    a.send(i);
    await back;
    rtts.push(performance.now() - start);
  }
  b.off("data", echo);
  return rtts.sort((x, y) => x - y);
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

await using redis = await startRedis();
const env = { RELAY_RATE: "off" };
await using one = await startNode(redis.url, { entry: "tests/_cluster_node.ts", env });
await using two = await startNode(redis.url, { entry: "tests/_cluster_node.ts", env });

const rows: string[][] = [];
for (
  const [name, urlA, urlB] of [
    ["same node", one.url, one.url],
    ["across nodes", one.url, two.url],
  ] as const
) {
  const a = peer(urlA, { pairCode: `bench-${name.replace(" ", "-")}` });
  const b = peer(urlB, { pairCode: `bench-${name.replace(" ", "-")}` });
  try {
    await paired(a, b);
    await roundTrips(a, b); // warm-up
    const rtts = await roundTrips(a, b);
    const mbps = await throughput(a, b);
    rows.push([
      name,
      mbps.toFixed(1),
      quantile(rtts, 0.5).toFixed(2),
      quantile(rtts, 0.99).toFixed(2),
    ]);
  } finally {
    a.close();
    b.close();
  }
}

console.log(
  `Relay between two Deno peers (${MEGABYTES} MiB in 16 KiB messages; ${ROUND_TRIPS} round trips)`,
);
console.log("| path | throughput MiB/s | RTT p50 ms | RTT p99 ms |");
console.log("| --- | --- | --- | --- |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
