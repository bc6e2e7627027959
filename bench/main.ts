/**
 * `deno task bench`: SocketPeer's relay and direct paths side by side with the baselines users
 * would pick instead (a socket.io room relay on Node, a raw WebSocket relay on Deno, a raw
 * DataChannel), in one run on one machine; then time to upgrade, pairing rate, sockets held and
 * relay RTT under load. Writes `bench/results/latest.json`, `latest.md` and the SVG charts, and
 * prints the ratios against the targets of issue 4 with PASS/MISS.
 *
 * ```sh
 * deno task bench            # the full run (about 10 minutes on 2 cores)
 * deno task bench --quick    # every suite briefly, for CI smoke use (under 2 minutes)
 * deno task bench --only=throughput,upgrade   # some suites (throughput, browser, upgrade,
 *                                             # held, active, pairing)
 * deno task bench --only=throughput --paths=relay,socketio-node --sizes=65536
 *                                             # some paths and message sizes (bytes)
 * ```
 *
 * `--quick` writes to `bench/results/quick/` (not committed) so that it never replaces the
 * committed results; `--out=DIR` writes elsewhere. `--render` runs nothing: it remakes the
 * verdicts, `latest.md` and the charts from the `latest.json` already in the output folder. Exits 1 when a suite failed to run (a MISS is
 * a result, not a failure).
 *
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { FULL, type PathId, PATHS, QUICK, type Settings, TARGETS } from "./config.ts";
import {
  installDependencies,
  load1,
  machine,
  openFilesLimit,
  prepareNodeBaseline,
  versions,
} from "./env.ts";
import * as progress from "./progress.ts";
import { latencyChart, throughputChart, upgradeChart } from "./report/charts.ts";
import { headlineTable, markdown } from "./report/markdown.ts";
import { noiseOf, sanity, verdicts } from "./report/verdicts.ts";
import type { Results } from "./results.ts";
import { runBrowser } from "./suites/browser.ts";
import { runActive, runHeld, runPairing, runUpgrade } from "./suites/connections.ts";
import { type RunningServer, type ServerKind, startServer } from "./suites/servers.ts";
import { runThroughput } from "./suites/throughput.ts";

const SUITES = ["throughput", "browser", "upgrade", "held", "active", "pairing"] as const;
type Suite = typeof SUITES[number];

/** Open files the server keeps for itself besides sockets (stdio, epoll, listeners, files). */
const SERVER_FD_RESERVE = 200;

async function git(args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).output()
    .catch(() => null);
  return out?.success ? new TextDecoder().decode(out.stdout).trim() : "";
}

function hardOpenFilesLimit(): string {
  const limits = Deno.readTextFileSync("/proc/self/limits");
  return /Max open files\s+\d+\s+(\S+)/.exec(limits)?.[1] ?? "unknown";
}

async function runSuite<T>(
  name: string,
  results: Results,
  run: () => Promise<T>,
): Promise<T | undefined> {
  results.loadAverage.during.push(load1());
  try {
    return await run();
  } catch (err) {
    const message = `${name}: ${(err as Error).message}`;
    results.errors.push(message);
    progress.warn(message);
    return undefined;
  }
}

/** Judges the figures (noise, sanity gate, verdicts) and writes every output file. */
async function writeResults(results: Results, outDir: URL): Promise<void> {
  results.noise = noiseOf(results.throughput);
  results.sanity = sanity(results.throughput);
  results.verdicts = verdicts(results);
  await Deno.mkdir(outDir, { recursive: true });
  const write = (name: string, text: string) => Deno.writeTextFile(new URL(name, outDir), text);
  await write("latest.json", JSON.stringify(results, null, 2) + "\n");
  await write("latest.md", markdown(results));
  await write("throughput.svg", throughputChart(results));
  await write("latency.svg", latencyChart(results));
  await write("upgrade.svg", upgradeChart(results));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      out: { type: "string" },
      render: { type: "boolean", default: false },
      paths: { type: "string" },
      sizes: { type: "string" },
    },
  });
  const settings: Settings = { ...(values.quick ? QUICK : FULL) };
  if (values.paths) {
    settings.paths = values.paths.split(",") as PathId[];
    for (const p of settings.paths) {
      if (!(p in PATHS)) {
        throw new Error(`unknown path ${p}; known: ${Object.keys(PATHS).join(", ")}`);
      }
    }
  }
  if (values.sizes) {
    settings.sizes = values.sizes.split(",").map(Number);
    if (settings.sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) {
      throw new Error(`--sizes takes message sizes in bytes, e.g. 1024,65536`);
    }
  }
  const only = new Set((values.only?.split(",") ?? SUITES) as Suite[]);
  for (const s of only) {
    if (!SUITES.includes(s)) throw new Error(`unknown suite ${s}; known: ${SUITES.join(", ")}`);
  }
  const outDir = new URL(
    values.out
      ? `${pathToFileURL(resolve(values.out)).href}/`
      : values.quick
      ? "results/quick/"
      : "results/",
    values.out ? undefined : import.meta.url,
  );
  if (values.render) {
    const results = JSON.parse(
      await Deno.readTextFile(new URL("latest.json", outDir)),
    ) as Results;
    await writeResults(results, outDir);
    console.log(headlineTable(results));
    return 0;
  }
  const started = new Date();
  const t0 = performance.now();
  const codeStatus = await git([
    "status",
    "--porcelain",
    "--",
    "client.ts",
    "client",
    "server.ts",
    "server",
    "protocol",
    "static",
  ]);
  const results: Results = {
    schema: 1,
    startedAt: started.toISOString(),
    finishedAt: "",
    durationSeconds: 0,
    quick: settings.quick,
    // A tree exported with `git archive` has no .git: BENCH_COMMIT names its commit.
    commit: await git(["rev-parse", "HEAD"]) || (Deno.env.get("BENCH_COMMIT") ?? "unknown"),
    dirty: codeStatus !== "",
    versions: await versions(),
    machine: machine(),
    loadAverage: { before: load1(), during: [], after: 0 },
    settings,
    throughput: [],
    latency: [],
    upgrade: {},
    pairing: [],
    held: [],
    active: [],
    noise: [],
    verdicts: [],
    sanity: [],
    errors: [],
  };
  const m = results.machine;
  console.log(
    `SocketPeer benchmarks${settings.quick ? " (--quick)" : ""}: ${m.cores} cores, ` +
      `${m.cpuModel}, load average ${results.loadAverage.before}; Deno ${results.versions.deno}, ` +
      `Node ${results.versions.node}`,
  );
  if (results.loadAverage.before > m.cores / 2) {
    progress.warn(
      `the machine is busy (load ${results.loadAverage.before} on ${m.cores} cores): ` +
        "absolute figures will be noisy",
    );
  }

  progress.step("installing dependencies…");
  await installDependencies();
  results.versions = await versions();

  // socket.io for the Node baseline, installed once when a suite needs it.
  let nodeEnvironment: Promise<Record<string, string>> | undefined;
  const nodeEnv = () =>
    nodeEnvironment ??= prepareNodeBaseline(
      results.versions.socketIo === "unknown" ? "4.8.1" : results.versions.socketIo,
    );

  if (only.has("throughput")) {
    await runSuite("throughput", results, async () => {
      const kinds: ServerKind[] = [
        "socketpeer",
        "socketpeer-default",
        "socketio",
        "socketio-deno",
        "ws",
      ];
      const env = await nodeEnv();
      const started = await Promise.allSettled(kinds.map((k) => startServer(k, env)));
      const servers = {} as Record<ServerKind, RunningServer>;
      try {
        started.forEach((s, i) => {
          if (s.status === "rejected") throw s.reason;
          servers[kinds[i]] = s.value;
        });
        const { rows, latency } = await runThroughput(settings, servers);
        results.throughput.push(...rows);
        results.latency = latency;
      } finally {
        await Promise.all(
          started.map((s) => s.status === "fulfilled" ? s.value.close() : undefined),
        );
      }
    });
  }
  if (only.has("browser") && settings.browser) {
    await runSuite("browser", results, async () => {
      const b = await runBrowser(settings);
      results.throughput.push(...b.rows);
      results.upgrade.browser = b.upgrade;
      results.versions.chromium = b.chromium;
      results.errors.push(...b.errors.map((e) => `browser: ${e}`));
    });
  }
  if (only.has("upgrade")) {
    const upgrade = await runSuite("upgrade", results, () => runUpgrade(settings));
    results.upgrade.deno = upgrade?.deno;
    results.upgrade.raw = upgrade?.raw;
  }
  if (only.has("held")) {
    const limit = openFilesLimit();
    const maxSockets = limit - SERVER_FD_RESERVE;
    const note = `the server may hold ${maxSockets} sockets: open files are limited to ${limit} ` +
      `(hard limit ${hardOpenFilesLimit()}) on this machine, one per socket`;
    results.held = await runSuite(
      "held",
      results,
      async () => runHeld(settings, maxSockets, note, await nodeEnv()),
    ) ?? [];
  }
  if (only.has("active")) {
    results.active = await runSuite("active", results, () => runActive(settings)) ?? [];
  }
  if (only.has("pairing")) {
    results.pairing = await runSuite(
      "pairing",
      results,
      async () => runPairing(settings, await nodeEnv()),
    ) ?? [];
  }

  results.loadAverage.after = load1();
  results.finishedAt = new Date().toISOString();
  results.durationSeconds = Math.round((performance.now() - t0) / 1000);
  await writeResults(results, outDir);

  progress.section(`Results (${results.durationSeconds} s)`);
  console.log(headlineTable(results));
  const refused = results.sanity.filter((s) => !s.ok);
  if (refused.length) {
    console.log(`\nSanity gate refused ${refused.length} figure(s):`);
    for (const s of refused) console.log(`  - ${s.check}: ${s.detail}`);
  }
  const missed = results.verdicts.filter((v) => v.verdict === "MISS").length;
  console.log(
    `\n${results.verdicts.filter((v) => v.verdict === "PASS").length} PASS, ${missed} MISS, ` +
      `${results.verdicts.filter((v) => v.verdict === "INVALID").length} INVALID, ` +
      `${results.verdicts.filter((v) => v.verdict === "NOT RUN").length} NOT RUN ` +
      `(targets: see issue 4; relay ≥ ${TARGETS.relayVsSocketIo}× socket.io, …)`,
  );
  console.log(`Wrote ${new URL("latest.json", outDir).pathname} and latest.md, *.svg`);
  if (results.errors.length) {
    console.log(`\n${results.errors.length} error(s):`);
    for (const e of results.errors) console.log(`  - ${e.split("\n")[0]}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
