/**
 * Soak: SOAK_KILL_PAIRS (50) relay pairs and 5 direct pairs ×
 * SOAK_KILL_MESSAGES (5,000) messages each way while the server process is
 * killed (SIGKILL) three times and restarted on the same port.
 *
 * @module
 */
import { killServerMidStream } from "../_load.ts";
import { Checks, envInt, report, type SoakResult } from "./_result.ts";

async function scenario(): Promise<SoakResult> {
  const relayPairs = envInt("SOAK_KILL_PAIRS", 50);
  const directPairs = 5;
  const messages = envInt("SOAK_KILL_MESSAGES", 5_000);
  const started = Date.now();
  const checks = new Checks();
  const result = await killServerMidStream({
    relayPairs,
    directPairs,
    messages,
    kills: 3,
    ms: 600_000,
  });
  const pairs = relayPairs + directPairs;
  checks.expect(result.broken.length === 0, result.broken.slice(0, 5).join("; "));
  checks.expect(result.samePartner === pairs, `${result.samePartner}/${pairs} pairs came back`);
  checks.expect(result.pairedAtEnd === pairs, `${result.pairedAtEnd}/${pairs} paired at the end`);
  return {
    scenario: `server SIGKILL ×3, ${pairs}×${messages}`,
    ok: checks.ok,
    messages: result.total,
    notes: `${result.reconnects} re-pairs; all delivered ${
      (result.recoveryMs / 1000).toFixed(1)
    } s after the first kill; ${result.stillDirect}/${directPairs} direct pairs stayed direct`,
    failures: checks.failures,
    ms: Date.now() - started,
  };
}

if (import.meta.main) report(await scenario());
