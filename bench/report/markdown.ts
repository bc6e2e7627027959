/**
 * `latest.md`: the run's figures as tables, headline first.
 *
 * @module
 */
import { type PathId, PATHS, sizeLabel } from "../config.ts";
import type { Results, Verdict } from "../results.ts";
import type { Distribution } from "../stats.ts";
import type { ThroughputRow } from "../suites/throughput.ts";
import { impossible, ratio } from "./verdicts.ts";

const n0 = (v: number) => Math.round(v).toLocaleString("en-US");
const n1 = (v: number) => v >= 100 ? n0(v) : (Math.round(v * 10) / 10).toString();
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

/** How a verdict's value reads. */
export function verdictValue(v: Verdict): string {
  if (v.value === undefined) return "—";
  if (v.unit === "×") return `${v.value.toFixed(2)}×`;
  if (v.unit === "bytes") return kb(v.value);
  if (v.unit === "ms") return `${v.value} ms`;
  return `${n0(v.value)} ${v.unit}`;
}

/** The headline table (also copied into the README). */
export function headlineTable(results: Results): string {
  const lines = [
    "| Measure | Value | Target | Verdict |",
    "| --- | ---: | --- | --- |",
  ];
  for (const v of results.verdicts) {
    lines.push(`| ${v.title} | ${verdictValue(v)} | ${v.target} | **${v.verdict}** |`);
  }
  return lines.join("\n");
}

function dist(d: Distribution | undefined): string {
  return d ? `${d.p50} | ${d.p90} | ${d.p99} | ${d.p999} | ${d.max}` : "— | — | — | — | —";
}

/** A table of sizes (rows) by paths (columns). */
function sizeByPath(rows: ThroughputRow[], cell: (row: ThroughputRow) => string): string {
  const paths = (Object.keys(PATHS) as PathId[]).filter((p) => rows.some((r) => r.path === p));
  const sizes = [...new Set(rows.map((r) => r.size))].sort((a, b) => a - b);
  const lines = [
    `| Size | ${paths.map((p) => PATHS[p].label).join(" | ")} |`,
    `| --- | ${paths.map(() => "---:").join(" | ")} |`,
  ];
  for (const size of sizes) {
    const cells = paths.map((path) => {
      const row = rows.find((r) => r.path === path && r.size === size);
      return row ? cell(row) : "";
    });
    lines.push(`| ${sizeLabel(size)} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

function throughputTable(results: Results, binary: boolean): string {
  const rows = results.throughput.filter((r) => r.round === 1 && r.binary === binary);
  return sizeByPath(rows, (row) => {
    if (row.skipped?.startsWith("above")) return "n/a¹";
    if (row.skipped) return "failed³";
    if (row.invalid) return "refused²";
    return `${n1(row.mbps!)} MB/s<br>${n0(row.msgps!)} msg/s`;
  });
}

function ratioTable(results: Results): string {
  const pairs: [PathId, PathId][] = [
    ["relay", "socketio-node"],
    ["relay-views", "socketio-node"],
    ["relay", "socketio-deno"],
    ["relay", "ws-deno"],
    ["direct", "datachannel"],
    ["browser-relay", "socketio-node"],
    ["browser-direct", "browser-datachannel"],
  ];
  const rows = results.throughput;
  const sizes = [...new Set(rows.map((r) => r.size))].sort((a, b) => a - b);
  const present = pairs.filter(([a, b]) =>
    rows.some((r) => r.path === a) && rows.some((r) => r.path === b)
  );
  const lines = [
    `| Size | ${present.map(([a, b]) => `${PATHS[a].label} / ${PATHS[b].label}`).join(" | ")} |`,
    `| --- | ${present.map(() => "---:").join(" | ")} |`,
  ];
  for (const size of sizes) {
    const cells = present.map(([a, b]) =>
      [true, false].map((binary) => {
        const r = ratio(rows, { path: a, size }, { path: b, size }, "mbps", binary);
        if (!r) return "—";
        // Smaller messages travel packed together, which the raw paths do not do (no ceiling).
        const ceiling = (b === "ws-deno" || b.endsWith("datachannel")) && size >= 64 * 1024;
        return ceiling && impossible(r) ? "refused²" : `${r.value.toFixed(2)}×`;
      }).join(" / ")
    );
    lines.push(`| ${sizeLabel(size)} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

function cpuTable(results: Results): string {
  const rows = results.throughput.filter((r) =>
    r.round === 1 && r.binary && r.cpuSecondsPerGB !== undefined
  );
  return sizeByPath(
    rows,
    (row) => row.invalid ? "refused²" : `${row.cpuSecondsPerGB} s (${row.serverCores} cores)`,
  );
}

/** The whole `latest.md`. */
export function markdown(results: Results): string {
  const m = results.machine;
  const v = results.versions;
  const out: string[] = [];
  out.push(`# SocketPeer benchmarks${results.quick ? " (--quick)" : ""}`);
  out.push("");
  out.push(
    `Run of ${results.startedAt} (${Math.round(results.durationSeconds)} s), commit ` +
      `\`${results.commit.slice(0, 12)}\`${results.dirty ? " with uncommitted changes" : ""}. ` +
      `Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}, open files ` +
      `${m.openFilesLimit}. Load average (1 min): ${results.loadAverage.before} before, ` +
      `${results.loadAverage.during.join(", ")} during, ${results.loadAverage.after} after.`,
  );
  out.push("");
  out.push(
    `Versions: Deno ${v.deno} (V8 ${v.v8}), Node ${v.node}, socket.io ${v.socketIo} / ` +
      `socket.io-client ${v.socketIoClient}, node-datachannel ${v.nodeDatachannel}, ` +
      `Chromium ${v.chromium ?? "not run"}.`,
  );
  out.push("");
  out.push("Every server runs alone in its process, on 127.0.0.1; every load generator runs in");
  out.push("processes of its own. Absolute figures depend on the machine and what else ran on it;");
  out.push("the ratios compare paths measured in the same run, and hold better.");
  out.push("");
  out.push("## Headline: targets of issue 4");
  out.push("");
  out.push(headlineTable(results));
  out.push("");
  for (const x of results.verdicts) out.push(`- **${x.title}** (${x.verdict}): ${x.detail}.`);
  out.push("");
  out.push("## Throughput, binary messages");
  out.push("");
  out.push(throughputTable(results, true));
  out.push("");
  out.push("## Throughput, string messages");
  out.push("");
  out.push(throughputTable(results, false));
  out.push("");
  out.push(
    "¹ not run: above the raw DataChannel's max-message-size (256 KiB). " +
      '² refused by the sanity gate (see below). ³ no result: see "Cases that did not finish".',
  );
  out.push("");
  out.push("## Ratios at every size (MB/s; binary / string)");
  out.push("");
  out.push(ratioTable(results));
  out.push("");
  out.push("## Server CPU seconds per GB relayed (binary)");
  out.push("");
  out.push(
    "Server process CPU (user + system, from /proc) over the case, per GB the receiver got;",
  );
  out.push("in brackets, the server's CPU use in cores (1 = one core busy all the time).");
  out.push("");
  out.push(cpuTable(results));
  out.push("");
  out.push("## Latency: 64 B ping round trip (ms)");
  out.push("");
  out.push("| Path | Loop | p50 | p90 | p99 | p99.9 | max |");
  out.push("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const l of results.latency) {
    out.push(
      `| ${PATHS[l.path].label} | closed (ping-pong, n=${l.pingpong.n}) | ${dist(l.pingpong)} |`,
    );
    out.push(
      `| ${PATHS[l.path].label} | open, ${l.openloop.rate}/s (n=${l.openloop.n}, ` +
        `${l.openloop.lost} lost, send lag p50 ${l.openloop.lagP50.toFixed(2)} ms) | ` +
        `${dist(l.openloop)} |`,
    );
  }
  out.push("");
  out.push("## Time to upgrade (ms, pairing to DataChannel open)");
  out.push("");
  out.push("| Peers | Pairings | Success | Retried | p50 | p90 | p99 | p99.9 | max |");
  out.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (
    const [name, u] of [
      ["Deno (SocketPeer, node-datachannel)", results.upgrade.deno],
      ["bare node-datachannel, no server (baseline; offer to open)", results.upgrade.raw],
      ["browser (SocketPeer, Chromium)", results.upgrade.browser],
    ] as const
  ) {
    if (!u) continue;
    out.push(
      `| ${name} | ${u.attempts} | ${(u.successRate * 100).toFixed(1)}% | ${u.retried ?? "–"} | ${
        dist(u)
      } |`,
    );
  }
  out.push("");
  if (results.pairing.length) {
    const first = results.pairing[0];
    out.push("## Pairing rate (connect two sockets, pair, relay the first message, close)");
    out.push("");
    out.push(
      `${first.loadProcesses} load processes × ${first.concurrency} concurrent pairings each, ` +
        `for ${first.seconds} s. On ${results.machine.cores} cores the load processes and the ` +
        "server share the CPU: the server's CPU per pairing tells what one server core sustains.",
    );
    out.push("");
    out.push(
      "| Server | Pairs/s | Failed | Server cores | Server CPU ms per pair | ≈ pairs/s per server core | " +
        "Load cores | Pairing p50 | p99 |",
    );
    out.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const p of results.pairing) {
      out.push(
        `| ${PATHS[p.server].label} | ${
          n0(p.pairsPerSecond)
        } | ${p.failures} | ${p.serverCores} | ` +
          `${p.serverCpuMsPerPair} | ${n0(p.pairsPerServerCoreSecond)} | ${p.loadCores} | ` +
          `${p.duration.p50} ms | ${p.duration.p99} ms |`,
      );
    }
    out.push("");
  }
  if (results.held.length) {
    out.push("## Sockets held (idle, paired; server process)");
    out.push("");
    out.push(
      "| Server | Sockets | RSS | RSS per socket | V8 heap used | heap per socket | Note |",
    );
    out.push("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    for (const h of results.held) {
      out.push(
        `| ${PATHS[h.server].label} | ${n0(h.sockets)} | ${
          (h.rssBytes / 2 ** 20).toFixed(0)
        } MiB | ` +
          `${kb(h.rssPerSocket)} | ` +
          `${(h.heapUsedBytes / 2 ** 20).toFixed(0)} MiB | ${kb(h.heapPerSocket)} | ` +
          `${h.capped ? `asked ${n0(h.target)}; capped: ${h.capped}` : ""} |`,
      );
    }
    out.push("");
    out.push(
      "Per socket: above the server's own memory with no socket, after a full GC. The baselines " +
        "hold bare sockets paired two by two on the socket.io room relay and on the raw Deno " +
        "WebSocket relay.",
    );
    out.push("");
  }
  if (results.active.length) {
    out.push("## Relay RTT while many pairs are active (ms)");
    out.push("");
    out.push(
      "| Active pairs | Pings/s per pair | p50 | p90 | p99 | p99.9 | max | Lost | Server cores | " +
        "Client cores |",
    );
    out.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const a of results.active) {
      out.push(
        `| ${n0(a.pairs)} | ${a.rate} | ${dist(a)} | ${a.lost} | ${a.serverCores} | ` +
          `${a.loadCores ?? "—"} |`,
      );
    }
    out.push("");
  }
  out.push("## Noise");
  out.push("");
  if (results.noise.some((e) => e.values.length > 1)) {
    out.push("The headline cases, measured once per round; spread = (max − min) / median.");
    out.push("");
    out.push("| Case | Values | Spread |");
    out.push("| --- | --- | ---: |");
    for (const e of results.noise.filter((e) => e.values.length > 1)) {
      out.push(
        `| ${PATHS[e.path].label}, ${sizeLabel(e.size)}, ${
          e.metric === "mbps" ? "MB/s" : "msg/s"
        } | ` +
          `${e.values.map(n1).join(", ")} | ${(e.spread * 100).toFixed(1)}% |`,
      );
    }
  } else {
    out.push("One round only: no spread measured (the sanity gate assumes ±15%).");
  }
  out.push("");
  const unfinished = results.throughput.filter((r) => r.skipped && !r.skipped.startsWith("above"));
  if (unfinished.length) {
    out.push("## Cases that did not finish");
    out.push("");
    for (const r of unfinished) {
      out.push(
        `- ${PATHS[r.path].label}, ${r.binary ? "binary" : "string"} ${sizeLabel(r.size)}, ` +
          `round ${r.round}: ${r.skipped}`,
      );
    }
    out.push("");
  }
  out.push("## Sanity gate");
  out.push("");
  const refused = results.sanity.filter((s) => !s.ok);
  out.push(
    refused.length
      ? "Figures refused (not used in any ratio or verdict):"
      : `All ${results.sanity.length} checks passed: no figure lost messages, took the wrong ` +
        "path, or beat its ceiling by more than the noise.",
  );
  for (const s of refused) out.push(`- ${s.check}: ${s.detail}`);
  out.push("");
  out.push(
    "The raw relay and the raw DataChannels bound SocketPeer's paths only for messages of 64 KiB " +
      "and more. Smaller messages that are ready at the same time travel packed together in one " +
      "transport message (a BATCH frame of up to 64 KiB), while the raw baselines send one " +
      "transport message per message, as their plain APIs do; there SocketPeer can beat them.",
  );
  out.push("");
  if (results.errors.length) {
    out.push("## Errors");
    out.push("");
    for (const e of results.errors) out.push(`- ${e.replaceAll("\n", " ")}`);
    out.push("");
  }
  return out.join("\n");
}
