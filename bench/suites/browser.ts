/**
 * The browser suite: throughput of the browser paths and time to upgrade between two Chromium
 * pages, driven by `bench/load/browser.ts` against a SocketPeer server (relayRate lifted, as
 * for the Deno relay).
 *
 * @module
 */
import { type PathId, PATHS, type Settings, sizeLabel } from "../config.ts";
import type { BrowserPath, BrowserSession } from "../load/browser.ts";
import type { StreamResult } from "../harness/workload.ts";
import { Child, CpuMeter } from "../proc.ts";
import * as progress from "../progress.ts";
import { successText, type UpgradeResult, upgradeResult } from "./connections.ts";
import { startServer } from "./servers.ts";
import { describeRow, streamRow, type ThroughputRow } from "./throughput.ts";

/** What the browser suite measured. */
export interface BrowserResults {
  chromium?: string;
  rows: ThroughputRow[];
  upgrade?: UpgradeResult;
  errors: string[];
}

/** Runs the browser paths and browser time to upgrade. */
export async function runBrowser(settings: Settings): Promise<BrowserResults> {
  progress.section("Browser paths (two Chromium pages) and browser time to upgrade");
  const paths = (["browser-direct", "browser-relay", "browser-datachannel"] as BrowserPath[])
    .filter((p) => !settings.paths || settings.paths.includes(p));
  const stream = (size: number, binary: boolean) => ({
    size,
    binary,
    warmupMs: settings.warmupMs,
    measureMs: settings.measureMs,
  });
  const matrix = settings.sizes.flatMap((size) => settings.kinds.map((b) => stream(size, b)));
  // Round 1: the matrix on every path; then the headline case again on direct and raw,
  // alternating, for the ratio and its noise.
  const sessions: (BrowserSession & { round: number })[] = paths.map((path) => ({
    path,
    cases: matrix,
    round: 1,
  }));
  const headline = 64 * 1024;
  if (settings.sizes.includes(headline)) {
    for (let round = 2; round <= settings.rounds; round++) {
      for (const path of ["browser-datachannel", "browser-direct"] as BrowserPath[]) {
        if (!paths.includes(path)) continue;
        sessions.push({ path, cases: [stream(headline, true)], round });
      }
    }
  }
  const out: BrowserResults = { rows: [], errors: [] };
  const server = await startServer("socketpeer");
  const load = Child.deno("bench/load/browser.ts", {
    pageUrl: `http://127.0.0.1:${server.port}/bench.html`,
    sessions: sessions.map(({ path, cases }) => ({ path, cases })),
    upgrades: settings.browserUpgrades,
    upgradeWarmup: settings.upgradeWarmup,
    upgradeTimeoutMs: 10_000,
  }, { name: "browser" });
  const chromiumPids: number[] = [];
  load.onLine = (line) => {
    if (line.event === "browsers") chromiumPids.push(...line.pids as number[]);
  };
  try {
    const version = await load.next("version", 120_000);
    out.chromium = version.chromium as string;
    await load.send("go");
    let meter: CpuMeter | null = null;
    const timeout = 180_000 + settings.browserUpgrades * 20_000;
    while (true) {
      const line = await load.next(
        [
          "path-ready",
          "path-failed",
          "session-error",
          "task-start",
          "task-done",
          "progress",
          "upgrade",
          "finished",
        ],
        timeout,
      );
      if (line.event === "finished") break;
      const path = line.path as PathId;
      const session = sessions[line.session as number];
      const c = session?.cases[line.index as number];
      if (line.event === "path-ready") {
        progress.step(`${PATHS[path].label}: connected`);
      } else if (line.event === "session-error") {
        progress.warn(`${PATHS[path].label}: ${line.error}; reconnecting`);
      } else if (line.event === "path-failed") {
        out.errors.push(`${PATHS[path].label}: ${line.error}`);
        progress.warn(`${PATHS[path].label}: ${line.error}`);
        const done = new Set(
          out.rows.filter((r) => r.path === path && r.round === session.round).map((r) =>
            `${r.size}/${r.binary}`
          ),
        );
        for (const k of session.cases) {
          if (!done.has(`${k.size}/${k.binary}`)) {
            out.rows.push({
              path,
              size: k.size,
              binary: k.binary,
              round: session.round,
              skipped: `failed: ${String(line.error).split("\n")[0]}`,
            });
          }
        }
      } else if (line.event === "task-start") {
        progress.step(
          `${PATHS[path].label}, ${c.binary ? "binary" : "string"} ${sizeLabel(c.size)} (${
            (line.index as number) + 1
          }/${session.cases.length}, round ${session.round})`,
        );
        meter = new CpuMeter([server.child]);
      } else if (line.event === "task-done") {
        const row = streamRow(
          { path, size: c.size, binary: c.binary, round: session.round },
          line.result as StreamResult,
          meter?.read(),
          { server: server.child.name },
        );
        out.rows.push(row);
        progress.result(describeRow(row));
      } else if (line.event === "progress") {
        progress.step(`browser pairing ${line.done}/${line.total}`);
      } else if (line.event === "upgrade") {
        out.upgrade = upgradeResult(
          line.samples as number[],
          line.failures as number,
          line.attempts as number,
        );
        progress.result(
          `browser time to upgrade: p50 ${out.upgrade.p50} ms, p99 ${out.upgrade.p99} ms, ` +
            `${successText(out.upgrade)} (${out.upgrade.attempts} pairings)`,
        );
      }
    }
  } catch (err) {
    out.errors.push(String((err as Error).message));
    progress.warn(`browser suite: ${(err as Error).message}`);
  } finally {
    await load.close(20_000);
    // A load process killed before it closed its browsers leaves them running: end them.
    for (const pid of chromiumPids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* exited with its parent, as it should */ }
    }
    await server.close();
  }
  return out;
}
