/**
 * 100,000 random and mutated Engine.IO/socket.io packets against a server in
 * its own process, while a canary pair keeps exchanging numbered messages.
 * The seed is printed; `FUZZ_SEED=<seed>` replays a run's packets (their
 * interleaving across sockets is not replayed). `deno task soak` runs a
 * million with a new seed each time.
 */
import assert from "node:assert/strict";
import { fuzz } from "./_fuzz.ts";
import {
  assertServes,
  mb,
  RssWatch,
  seedFromEnv,
  serverProblems,
  startCanary,
  startServerProcess,
} from "./_faults.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Packets per CI run: about 10 s on a shared 2-core machine. */
const PACKETS = 100_000;

Deno.test(
  "100,000 fuzzed packets neither crash nor hang the server, its memory stays bounded, and a canary pair loses nothing",
  opts,
  async () => {
    const seed = seedFromEnv(0x5eed_2026);
    console.log(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
    await using server = await startServerProcess();
    await assertServes(server.url, "warm-up");
    const watch = new RssWatch(server);
    const canary = startCanary(server.url, `canary-${seed}`);
    const report = await fuzz(server.port, {
      seed,
      packets: PACKETS,
      connections: 8,
      timeLimitMs: 150_000,
    }).finally(() => watch.sample());
    const canaryTally = await canary.stop();
    const rss = watch.stop();
    console.log(
      `fuzzed ${report.packets} packets in ${report.elapsedMs} ms over ${report.sockets} sockets;` +
        ` ${report.closedByServer} closed by the server (${report.disconnectedByServer} on purpose),` +
        ` ${report.refusals} refusals, ${report.unrepeatedCloses} closes under load that a replay did` +
        ` not repeat; server RSS ${mb(rss.before)} → ${mb(rss.after)}` +
        ` (peak ${mb(rss.peak)}); canary ${JSON.stringify(canaryTally)}`,
    );
    assert.deepEqual(await serverProblems(server, "the fuzzing"), []);
    assert.equal(report.timedOut, false, `only ${report.packets} packets within the time limit`);
    assert.ok(report.packets >= PACKETS);
    assert.equal(report.hung, 0, "batches the server neither answered nor closed");
    assert.equal(
      report.gentleCloses,
      0,
      `parseable batches that closed the socket, saved in ${report.gentleCloseSamples.join(", ")}`,
    );
    assert.ok(canaryTally.sent > 100, `the canary sent ${canaryTally.sent}`);
    assert.deepEqual(
      {
        lost: canaryTally.lost,
        duplicated: canaryTally.duplicated,
        reordered: canaryTally.reordered,
      },
      { lost: 0, duplicated: 0, reordered: 0 },
      "the canary pair",
    );
    // Bounded: V8 keeps some of the heap it grew; a leak grows with the packet count.
    assert.ok(
      rss.after - rss.before < 256 * 1024 * 1024,
      `server RSS grew from ${mb(rss.before)} to ${mb(rss.after)}`,
    );
  },
);
