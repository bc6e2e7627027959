/**
 * Soak: every crash input, SOAK_CRASH_ROUNDS times (default 5), against one
 * server process; after each input the server must still pair and relay.
 *
 * @module
 */
import { CRASH_INPUT_GROUPS } from "../_crash_inputs.ts";
import { assertServes, RssWatch, serverProblems, startServerProcess } from "../_faults.ts";
import { Checks, envInt, report, type SoakResult } from "./_result.ts";

async function scenario(): Promise<SoakResult> {
  const rounds = envInt("SOAK_CRASH_ROUNDS", 5);
  const started = Date.now();
  const checks = new Checks();
  await using server = await startServerProcess();
  await assertServes(server.url, "warm-up");
  const watch = new RssWatch(server);
  let tried = 0;
  for (let round = 0; round < rounds && server.alive(); round++) {
    for (const [group, inputs] of Object.entries(CRASH_INPUT_GROUPS)) {
      for (const input of inputs) {
        tried++;
        try {
          await input.run(server.port);
          await assertServes(server.url, input.name);
        } catch (err) {
          checks.expect(false, `round ${round + 1}, ${group}: ${input.name}: ${err}`);
        }
      }
    }
  }
  for (const problem of await serverProblems(server, "the crash inputs")) {
    checks.expect(false, problem);
  }
  const rss = watch.stop();
  return {
    scenario: `crash inputs ×${rounds}`,
    ok: checks.ok,
    inputs: { count: tried, what: "inputs" },
    rss,
    notes: `${tried / rounds} inputs per round, a fresh pair relayed after each`,
    failures: checks.failures,
    ms: Date.now() - started,
  };
}

if (import.meta.main) report(await scenario());
