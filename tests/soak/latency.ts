/**
 * Soak: relay round trips of 10 pairs on a quiet server, then while one
 * socket (in a process of its own) floods 10,000 frames a second, pairing
 * again each time the server disconnects it. The issue asks that the p99
 * stay within 2× of the quiet run.
 *
 * @module
 */
import { type FloodReport, spawnDeno, startServerProcess } from "../_faults.ts";
import { sleep } from "../_fixtures.ts";
import { relayLatency } from "../_load.ts";
import { envInt, report, type SoakResult } from "./_result.ts";

async function scenario(): Promise<SoakResult> {
  const ms = envInt("SOAK_LATENCY_MS", 10_000);
  const started = Date.now();
  await using server = await startServerProcess();
  const before = server.rss();
  const quiet = await relayLatency(server.url, { pairs: 10, ms, prefix: "quiet" });
  await using flooder = spawnDeno("tests/soak/_flooder.ts", [
    String(server.port),
    "10000",
    String(ms + 2_000),
  ]);
  await sleep(1_000); // the flood is under way
  const loud = await relayLatency(server.url, { pairs: 10, ms, prefix: "loud" });
  const [, json] = await flooder.waitFor(/^FLOOD (.*)$/m, 30_000);
  const flooded: FloodReport = JSON.parse(json);
  const ratio = loud.p99 / quiet.p99;
  return {
    scenario: "latency, quiet vs flood",
    ok: ratio <= 2 && flooded.disconnects > 0,
    latency: { quiet, flood: loud },
    rss: { before, after: server.rss() },
    notes:
      `p99 ×${ratio.toFixed(2)} under a flood of ${flooded.frames} frames (${flooded.warnings}` +
      ` warnings, ${flooded.disconnects} disconnects); ${quiet.samples}/${loud.samples} samples`,
    failures: [
      ...(ratio > 2 ? [`p99 ${loud.p99.toFixed(1)} ms is ${ratio.toFixed(2)}× the quiet run`] : []),
      ...(flooded.disconnects === 0 ? ["the flooder was never disconnected"] : []),
    ],
    ms: Date.now() - started,
  };
}

if (import.meta.main) report(await scenario());
