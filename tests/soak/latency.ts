/**
 * Soak: relay round trips of 10 pairs on a quiet server, then while one
 * socket floods 10,000 frames a second (pairing again each time the server
 * disconnects it). The issue asks that the p99 stay within 2× of the quiet run.
 *
 * @module
 */
import { startFlood, startServerProcess } from "../_faults.ts";
import { relayLatency } from "../_load.ts";
import { envInt, report, type SoakResult } from "./_result.ts";

async function scenario(): Promise<SoakResult> {
  const ms = envInt("SOAK_LATENCY_MS", 10_000);
  const started = Date.now();
  await using server = await startServerProcess();
  const before = server.rss();
  const quiet = await relayLatency(server.url, { pairs: 10, ms, prefix: "quiet" });
  const flood = startFlood(server.port, 10_000);
  const loud = await relayLatency(server.url, { pairs: 10, ms, prefix: "loud" });
  const flooded = await flood.stop();
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
