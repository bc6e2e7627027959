/**
 * `deno task soak`: the larger versions of the fault and load tests, each in
 * a process of its own, then a table of the figures. About 3–5 minutes on
 * two cores. Sizes can be set through the environment (see each scenario);
 * FUZZ_SEED replays a fuzz run; `deno task soak fuzz.ts latency.ts` runs
 * only those.
 *
 * @module
 */
import type { SoakResult } from "./_result.ts";

const SCENARIOS = [
  "crash_inputs.ts",
  "fuzz.ts",
  "switching.ts",
  "server_kill.ts",
  "stalled.ts",
  "latency.ts",
];

const ROOT = new URL("../../", import.meta.url);

/** Runs one scenario, passing its output through, and collects its result lines. */
async function run(script: string): Promise<{ results: SoakResult[]; code: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `tests/soak/${script}`],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const results: SoakResult[] = [];
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith("SOAK_RESULT ")) results.push(JSON.parse(line.slice(12)));
      else console.log(`  ${line}`);
    }
  }
  const { code } = await child.status;
  return { results, code };
}

const n = (x: number) => x.toLocaleString("en-US");
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)}`;

function cells(r: SoakResult): string[] {
  return [
    r.scenario,
    r.inputs ? `${n(r.inputs.count)} ${r.inputs.what}` : "",
    r.messages ? n(r.messages.sent) : "",
    r.messages ? n(r.messages.lost) : "",
    r.messages ? n(r.messages.duplicated) : "",
    r.rss
      ? `${mb(r.rss.before)} → ${mb(r.rss.after)}${
        r.rss.peak !== undefined ? ` (peak ${mb(r.rss.peak)})` : ""
      }`
      : "",
    r.latency
      ? `p50 ${r.latency.quiet.p50.toFixed(1)}/${r.latency.flood.p50.toFixed(1)}, p99 ${
        r.latency.quiet.p99.toFixed(1)
      }/${r.latency.flood.p99.toFixed(1)}`
      : "",
    `${(r.ms / 1000).toFixed(0)} s`,
    r.ok ? "ok" : "FAIL",
  ];
}

function table(rows: string[][]): string {
  const header = [
    "scenario",
    "inputs",
    "msgs sent",
    "lost",
    "dup",
    "server RSS MB before → after",
    "latency ms quiet/flood",
    "time",
    "result",
  ];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}

if (import.meta.main) {
  const only = Deno.args.length > 0 ? Deno.args : SCENARIOS;
  const started = Date.now();
  const results: SoakResult[] = [];
  for (const script of only) {
    console.log(`\n== ${script}`);
    const { results: rows, code } = await run(script);
    if (rows.length === 0) {
      rows.push({
        scenario: script,
        ok: false,
        notes: `exited ${code} without a result`,
        failures: [`exited ${code}`],
        ms: 0,
      });
    }
    results.push(...rows);
  }
  console.log(
    `\nSocketPeer soak, ${new Date().toISOString()}, Deno ${Deno.version.deno}, ${
      ((Date.now() - started) / 60_000).toFixed(1)
    } min\n`,
  );
  console.log(table(results.map(cells)));
  console.log("");
  for (const r of results) console.log(`${r.ok ? "ok  " : "FAIL"} ${r.scenario}: ${r.notes}`);
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) for (const f of r.failures) console.log(`  ${r.scenario}: ${f}`);
  Deno.exit(failed.length === 0 ? 0 : 1);
}
