/**
 * Ratios against the baselines and the targets of issue 4, with the sanity gate: a SocketPeer
 * path cannot beat its own ceiling (the raw relay for the relay, the raw DataChannel for the
 * direct path) by more than the run's noise; when it does, the figure is refused, not reported.
 *
 * @module
 */
import {
  DEFAULT_NOISE,
  HEADLINE_CASES,
  type PathId,
  PATHS,
  sizeLabel,
  TARGETS,
} from "../config.ts";
import type { NoiseEntry, Results, Verdict } from "../results.ts";
import { median, spread } from "../stats.ts";
import { successText } from "../suites/connections.ts";
import type { ThroughputRow } from "../suites/throughput.ts";

type Metric = "mbps" | "msgps";

/** The smallest noise the gate assumes even when repeats agreed closely. */
const MIN_NOISE = 0.05;

/** Valid figures of one case, one per round. */
function figures(
  rows: ThroughputRow[],
  path: PathId,
  size: number,
  binary: boolean,
  metric: Metric,
): Map<number, number> {
  const out = new Map<number, number>();
  for (const row of rows) {
    if (row.path !== path || row.size !== size || row.binary !== binary) continue;
    if (row.invalid || row.skipped || row[metric] === undefined) continue;
    out.set(row.round, row[metric]!);
  }
  return out;
}

/** Spread of each headline case over the rounds. */
export function noiseOf(rows: ThroughputRow[]): NoiseEntry[] {
  const entries: NoiseEntry[] = [];
  for (const { path, size } of HEADLINE_CASES) {
    for (const metric of ["mbps", "msgps"] as Metric[]) {
      const values = [...figures(rows, path, size, true, metric).values()];
      if (values.length > 0) {
        entries.push({
          path,
          size,
          metric,
          values,
          spread: Math.round(spread(values) * 1000) / 1000,
        });
      }
    }
  }
  return entries;
}

/** A ratio of two cases: the median over rounds of the per-round ratio, and the noise. */
export interface Ratio {
  value: number;
  rounds: number;
  noise: number;
}

/**
 * The ratio of case `a` over case `b`, round by round (same round, closest in time).
 *
 * @returns null when either case has no valid figure.
 */
export function ratio(
  rows: ThroughputRow[],
  a: { path: PathId; size: number },
  b: { path: PathId; size: number },
  metric: Metric,
  binary = true,
): Ratio | null {
  const fa = figures(rows, a.path, a.size, binary, metric);
  const fb = figures(rows, b.path, b.size, binary, metric);
  const per: number[] = [];
  for (const [r, va] of fa) {
    const vb = fb.get(r);
    if (vb !== undefined && vb > 0) per.push(va / vb);
  }
  if (per.length === 0) return null;
  const noise = per.length > 1
    ? Math.max(MIN_NOISE, spread([...fa.values()]), spread([...fb.values()]))
    : DEFAULT_NOISE;
  return { value: Math.round(median(per) * 1000) / 1000, rounds: per.length, noise };
}

/** A ratio against a ceiling: refused when it exceeds 1 by more than the noise. */
export function impossible(r: Ratio): boolean {
  return r.value > 1 + r.noise;
}

function ratioVerdict(
  id: string,
  title: string,
  r: Ratio | null,
  target: number,
  ceiling: boolean,
  how: string,
): Verdict {
  if (!r) {
    return { id, title, unit: "×", target: `≥ ${target}×`, verdict: "NOT RUN", detail: how };
  }
  const noise = `±${Math.round(r.noise * 100)}% noise, ${r.rounds} round(s)`;
  if (ceiling && impossible(r)) {
    return {
      id,
      title,
      unit: "×",
      target: `≥ ${target}×`,
      verdict: "INVALID",
      detail: `refused: ${r.value}× is above its ceiling by more than the noise (${noise}); ` +
        "the measurement is broken, not the path fast",
    };
  }
  return {
    id,
    title,
    value: r.value,
    unit: "×",
    target: `≥ ${target}×`,
    verdict: r.value >= target ? "PASS" : "MISS",
    detail: `${how} (median of per-round ratios; ${noise})`,
  };
}

function atMost(
  id: string,
  title: string,
  value: number | undefined,
  target: number,
  unit: string,
  detail: string,
): Verdict {
  if (value === undefined || !Number.isFinite(value)) {
    return { id, title, unit, target: `≤ ${target} ${unit}`, verdict: "NOT RUN", detail };
  }
  return {
    id,
    title,
    value,
    unit,
    target: `≤ ${target} ${unit}`,
    verdict: value <= target ? "PASS" : "MISS",
    detail,
  };
}

const KiB = 1024;
/** Messages at least this large travel alone, never packed with others. */
const BATCH_LIMIT = 64 * KiB;

/** The ratio targets: `a` over `b`, binary messages; `ceiling` when `b` bounds `a`. */
const RATIO_TARGETS: {
  id: string;
  title: string;
  a: { path: PathId; size: number };
  b: { path: PathId; size: number };
  metric: Metric;
  target: number;
  ceiling: boolean;
  how: string;
}[] = [
  {
    id: "relay-vs-socketio-1k",
    title: "Relay vs socket.io on Node, msg/s at 1 KiB",
    a: { path: "relay", size: KiB },
    b: { path: "socketio-node", size: KiB },
    metric: "msgps",
    target: TARGETS.relayVsSocketIo,
    ceiling: false,
    how: "binary 1 KiB messages",
  },
  {
    id: "relay-vs-socketio-64k",
    title: "Relay vs socket.io on Node, MB/s at 64 KiB",
    a: { path: "relay", size: 64 * KiB },
    b: { path: "socketio-node", size: 64 * KiB },
    metric: "mbps",
    target: TARGETS.relayVsSocketIo,
    ceiling: false,
    how: "binary 64 KiB messages",
  },
  {
    id: "relay-vs-ws-64k",
    title: "Relay vs raw WebSocket relay, MB/s at 64 KiB",
    a: { path: "relay", size: 64 * KiB },
    b: { path: "ws-deno", size: 64 * KiB },
    metric: "mbps",
    target: TARGETS.relayVsWs,
    ceiling: true,
    how: "binary 64 KiB messages",
  },
  {
    id: "direct-vs-raw-64k",
    title: "Direct vs raw DataChannel, MB/s at 64 KiB",
    a: { path: "direct", size: 64 * KiB },
    b: { path: "datachannel", size: 64 * KiB },
    metric: "mbps",
    target: TARGETS.directVsRaw,
    ceiling: true,
    how: "binary 64 KiB messages",
  },
  {
    id: "chunked-vs-raw",
    title: "Direct, chunked 1 MiB messages vs raw DataChannel at 64 KiB, MB/s",
    a: { path: "direct", size: 1024 * KiB },
    b: { path: "datachannel", size: 64 * KiB },
    metric: "mbps",
    target: TARGETS.chunkedVsRaw,
    ceiling: true,
    how: "binary; 1 MiB is above the channel's 256 KiB max-message-size, so SocketPeer chunks it",
  },
  {
    id: "browser-direct-vs-raw",
    title: "Browser direct vs raw browser DataChannel, MB/s at 64 KiB",
    a: { path: "browser-direct", size: 64 * KiB },
    b: { path: "browser-datachannel", size: 64 * KiB },
    metric: "mbps",
    target: TARGETS.browserDirectVsRaw,
    ceiling: true,
    how: "binary 64 KiB messages, two Chromium pages",
  },
];

/**
 * Every verdict of the headline table.
 *
 * @param results The run so far (throughput, upgrade, pairing, held, active).
 */
export function verdicts(results: Results): Verdict[] {
  const rows = results.throughput;
  const out: Verdict[] = RATIO_TARGETS.map((t) =>
    ratioVerdict(t.id, t.title, ratio(rows, t.a, t.b, t.metric), t.target, t.ceiling, t.how)
  );
  for (
    const [kind, u] of [["Deno", results.upgrade.deno], [
      "browser",
      results.upgrade.browser,
    ]] as const
  ) {
    const how = u
      ? `${u.attempts} pairings, ${u.failures} failed (${successText(u)}); ` +
        "from the first peer.found to both ends' DataChannel open, loopback"
      : "did not run";
    out.push(
      atMost(
        `upgrade-${kind}-p50`,
        `Time to upgrade, ${kind} peers, p50`,
        u?.p50,
        TARGETS.upgradeP50Ms,
        "ms",
        how,
      ),
      atMost(
        `upgrade-${kind}-p99`,
        `Time to upgrade, ${kind} peers, p99`,
        u?.p99,
        TARGETS.upgradeP99Ms,
        "ms",
        how,
      ),
    );
    if (u && u.successRate < 1) {
      out.at(-1)!.detail += "; failed pairings are not in the percentiles";
    }
    const raw = results.upgrade.raw;
    if (kind === "Deno" && raw) {
      out.at(-1)!.detail += `; bare node-datachannel connections with no server and no ` +
        `SocketPeer take p50 ${raw.p50} ms, p99 ${raw.p99} ms`;
    }
  }
  const p = results.pairing.find((x) => x.server === "relay-default");
  const pio = results.pairing.find((x) => x.server === "socketio-node");
  out.push({
    id: "pairing-rate",
    title: "Pairing rate (connect, pair, first relayed message)",
    value: p?.pairsPerSecond,
    unit: "pairs/s",
    target: `≥ ${TARGETS.pairsPerSecond} pairs/s`,
    verdict: !p ? "NOT RUN" : p.pairsPerSecond >= TARGETS.pairsPerSecond ? "PASS" : "MISS",
    detail: p
      ? `${p.loadProcesses} load processes × ${p.concurrency} concurrent pairings; server used ` +
        `${p.serverCores} cores, ${p.serverCpuMsPerPair} CPU ms per pair ` +
        `(≈ ${p.pairsPerServerCoreSecond} pairs/s if it had a core to itself)` +
        (pio
          ? `; the socket.io room relay on Node, same harness: ${pio.pairsPerSecond} pairs/s, ` +
            `${pio.serverCpuMsPerPair} CPU ms per pair`
          : "")
      : "did not run",
  });
  const last = results.held.filter((h) => h.server === "relay-default").at(-1);
  const heldDetail = last
    ? `${last.sockets} idle paired sockets` +
      (last.capped ? ` (target ${last.target}; capped: ${last.capped})` : "") +
      `; ${(last.heapPerSocket / 1000).toFixed(1)} KB of V8 heap per socket` +
      heldBaselines(results.held)
    : "did not run";
  out.push({
    id: "held-rss",
    title: `RSS per idle socket at ${last?.sockets ?? TARGETS.heldSockets} sockets`,
    value: last?.rssPerSocket,
    unit: "bytes",
    target: `≤ ${TARGETS.heldRssPerSocketBytes / 1000} KB at ${TARGETS.heldSockets} sockets`,
    verdict: !last
      ? "NOT RUN"
      : last.rssPerSocket <= TARGETS.heldRssPerSocketBytes
      ? "PASS"
      : "MISS",
    detail: heldDetail,
  });
  for (const a of results.active) {
    out.push(atMost(
      `active-rtt-${a.rate}`,
      `Relay RTT p99, ${a.pairs} active pairs pinging ${a.rate}/s each`,
      a.p99,
      TARGETS.activeRttP99Ms,
      "ms",
      `64 B pings, open loop; p50 ${a.p50} ms, p99.9 ${a.p999} ms, ${a.lost} of ${a.sent} lost; ` +
        `server ${a.serverCores} cores, client processes ${a.loadCores ?? "?"} cores of ` +
        `${results.machine.cores}`,
    ));
  }
  return out;
}

/** What the baseline servers hold per idle socket, as evidence next to SocketPeer's figure. */
function heldBaselines(held: Results["held"]): string {
  const kB = (bytes: number) => (bytes / 1000).toFixed(1);
  const others = held.filter((h) => h.server !== "relay-default").map((h) =>
    `${PATHS[h.server].label} ${kB(h.rssPerSocket)} KB (heap ${kB(h.heapPerSocket)} KB)`
  );
  return others.length > 0
    ? `; same harness, RSS per socket at ${held.at(-1)!.sockets} sockets: ${others.join(", ")}`
    : "";
}

/**
 * Checks of the sanity gate over the whole matrix: invalid rows, and SocketPeer paths above
 * their ceilings at any size.
 */
export function sanity(rows: ThroughputRow[]): Results["sanity"] {
  const checks: Results["sanity"] = [];
  for (const row of rows) {
    if (row.invalid) {
      checks.push({
        check: `${PATHS[row.path].label}, ${row.binary ? "binary" : "string"} ${
          sizeLabel(row.size)
        }`,
        ok: false,
        detail: `refused: ${row.invalid}`,
      });
    }
  }
  const ceilings: [PathId, PathId][] = [
    ["relay", "ws-deno"],
    ["direct", "datachannel"],
    ["browser-direct", "browser-datachannel"],
  ];
  // Below a frame's worth, SocketPeer packs the messages that are ready together into one
  // transport message (a BATCH frame of up to 64 KiB), which the raw baselines, one transport
  // message per message, do not: there the raw path bounds nothing.
  const sizes = [...new Set(rows.map((r) => r.size))].filter((s) => s >= BATCH_LIMIT)
    .sort((a, b) => a - b);
  for (const [path, ceiling] of ceilings) {
    for (const size of sizes) {
      for (const binary of [true, false]) {
        const r = ratio(rows, { path, size }, { path: ceiling, size }, "mbps", binary);
        if (!r) continue;
        const ok = !impossible(r);
        checks.push({
          check:
            `${PATHS[path].label} ≤ ${PATHS[ceiling].label}, ${binary ? "binary" : "string"} ` +
            sizeLabel(size),
          ok,
          detail: ok
            ? `${r.value}×`
            : `refused: ${r.value}× exceeds the ceiling by more than ±${
              Math.round(r.noise * 100)
            }%`,
        });
      }
    }
  }
  return checks;
}
