/**
 * Soak: SOAK_SWITCH_PAIRS (100) WebRTC pairs × SOAK_SWITCH_MESSAGES (5,000)
 * numbered messages each way, each pair's DataChannel killed four times
 * mid-stream, re-upgrading each time.
 *
 * @module
 */
import { startServerProcess } from "../_faults.ts";
import { switchingLoad } from "../_load.ts";
import { Checks, envInt, report, type SoakResult } from "./_result.ts";

async function scenario(): Promise<SoakResult> {
  const pairs = envInt("SOAK_SWITCH_PAIRS", 100);
  const messages = envInt("SOAK_SWITCH_MESSAGES", 5_000);
  const started = Date.now();
  const checks = new Checks();
  await using server = await startServerProcess();
  const before = server.rss();
  const result = await switchingLoad(server.url, {
    pairs,
    messages,
    seed: Date.now() >>> 0,
    killsPerPair: 4,
    ms: 600_000,
  });
  checks.expect(result.broken.length === 0, result.broken.slice(0, 5).join("; "));
  checks.expect(result.pairsSwitched === pairs, `${result.pairsSwitched}/${pairs} pairs switched`);
  return {
    scenario: `switching ${pairs}×${messages}`,
    ok: checks.ok,
    messages: result.total,
    rss: { before, after: server.rss() },
    notes: `${result.kills} channels killed, ${result.upgrades} upgrades, ${result.downgrades} ` +
      `downgrades, ${result.pairsSwitched}/${pairs} pairs p2p→relay→p2p`,
    failures: checks.failures,
    ms: Date.now() - started,
  };
}

if (import.meta.main) report(await scenario());
