/**
 * Soak: the memory attacks, each on a fresh server process: 300 MB of data
 * pushed at a receiver that stopped reading, 300 MB of signals pushed at one,
 * and unknown events from a client that never reads. Each run stops early
 * once the server grew by 256 MB.
 *
 * @module
 */
import {
  growthOf,
  type MemoryAttack,
  refusalFloodAttack,
  stalledDataAttack,
  stalledSignalAttack,
} from "../_abuse.ts";
import { mb, type ServerProcess, startServerProcess } from "../_faults.ts";
import { report, type SoakResult } from "./_result.ts";

const LIMIT = 64 * 1024 * 1024;

async function row(
  scenario: string,
  attack: (server: ServerProcess) => Promise<MemoryAttack>,
  droppedMeans: string,
): Promise<SoakResult> {
  const started = Date.now();
  await using server = await startServerProcess();
  const result = await attack(server);
  const growth = growthOf(result);
  const failures: string[] = [];
  if (!result.dropped) failures.push(`not ${droppedMeans}`);
  if (growth > LIMIT) failures.push(`server RSS grew by ${mb(growth)} (limit ${mb(LIMIT)})`);
  if (!server.alive()) failures.push("the server died");
  return {
    scenario,
    ok: failures.length === 0,
    inputs: { count: result.pushed, what: "bytes pushed" },
    rss: { before: result.rssBefore, after: server.rss(), peak: result.rssPeak },
    notes: `${result.dropped ? droppedMeans : `never ${droppedMeans}`} after ${
      mb(result.pushedBeforeDrop)
    }${result.aborted ? "; stopped at +256 MB" : ""}`,
    failures,
    ms: Date.now() - started,
  };
}

if (import.meta.main) {
  report(
    await row("stalled receiver, data", stalledDataAttack, "receiver dropped"),
    await row("stalled receiver, signals", stalledSignalAttack, "receiver dropped"),
    await row("non-reader's refusals", refusalFloodAttack, "spammer dropped"),
  );
}
