/**
 * Soak: SOAK_FUZZ_PACKETS (default 1,000,000) fuzzed packets over 16 sockets
 * at once while a canary pair exchanges numbered messages. The seed is new
 * each run (printed); FUZZ_SEED replays one.
 *
 * @module
 */
import { fuzz } from "../_fuzz.ts";
import {
  assertServes,
  RssWatch,
  seedFromEnv,
  serverProblems,
  startCanary,
  startServerProcess,
} from "../_faults.ts";
import { Checks, envInt, report, type SoakResult } from "./_result.ts";

async function scenario(): Promise<SoakResult> {
  const packets = envInt("SOAK_FUZZ_PACKETS", 1_000_000);
  const seed = seedFromEnv(Date.now() >>> 0);
  console.log(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
  const started = Date.now();
  const checks = new Checks();
  await using server = await startServerProcess();
  await assertServes(server.url, "warm-up");
  const watch = new RssWatch(server, 500);
  const canary = startCanary(server.url, `soak-canary-${seed}`);
  const result = await fuzz(server.port, {
    seed,
    packets,
    connections: 16,
    timeLimitMs: 15 * 60_000,
  });
  const tally = await canary.stop(120_000);
  const rss = watch.stop();
  checks.expect(!result.timedOut, `only ${result.packets} packets within 15 minutes`);
  checks.expect(result.hung === 0, `${result.hung} batches hung`);
  checks.expect(
    result.gentleCloses === 0,
    `${result.gentleCloses} parseable batches closed the socket: ${result.gentleCloseSamples}`,
  );
  checks.expect(tally.lost + tally.duplicated + tally.reordered === 0, JSON.stringify(tally));
  for (const problem of await serverProblems(server, "the fuzzing")) checks.expect(false, problem);
  return {
    scenario: "fuzz",
    ok: checks.ok,
    inputs: { count: result.packets, what: "packets" },
    messages: tally,
    rss,
    notes: `seed ${seed}; ${result.sockets} sockets, ${result.closedByServer} closed by the ` +
      `server, ${result.refusals} refusals, ${result.hung} hung, ${result.unrepeatedCloses} ` +
      `closes under load not repeated by a replay`,
    failures: checks.failures,
    ms: Date.now() - started,
  };
}

if (import.meta.main) report(await scenario());
