/**
 * The three charts of a run: throughput against message size for every path, the latency
 * distribution of relay and direct, and time to upgrade.
 *
 * @module
 */
import { type PathId, PATHS, sizeLabel, SIZES, TARGETS } from "../config.ts";
import type { Results } from "../results.ts";
import { chart, decades, legend, logAxis, PALETTE, renderSvg, type Series } from "./svg.ts";

const PATH_ORDER: PathId[] = [
  "relay",
  "relay-default",
  "direct",
  "browser-relay",
  "browser-direct",
  "socketio-node",
  "socketio-deno",
  "ws-deno",
  "datachannel",
  "browser-datachannel",
];

function runNote(results: Results): string {
  const m = results.machine;
  return `${results.startedAt.slice(0, 10)}, ${m.cores} cores (${m.cpuModel}), Deno ` +
    `${results.versions.deno}, loopback${results.quick ? ", --quick run" : ""}`;
}

/** Throughput (MB/s, log scale) against message size, binary and string side by side. */
export function throughputChart(results: Results): string {
  const rows = results.throughput.filter((r) => r.round === 1 && r.mbps && !r.invalid);
  const values = rows.map((r) => r.mbps!);
  const lo = Math.max(0.01, Math.min(...values, 1) / 2);
  const hi = Math.max(...values, 10) * 1.5;
  const yTicks = decades(lo, hi).filter((v) => v >= lo && v <= hi);
  const sizes = SIZES.filter((s) => rows.some((r) => r.size === s));
  const xAxis = logAxis(sizes[0] / 1.4, sizes.at(-1)! * 1.4, sizes, "message size", sizeLabel);
  const yAxis = logAxis(lo, hi, yTicks, "MB/s (log)", (v) => String(v));
  const series = (binary: boolean): Series[] =>
    PATH_ORDER.map((path, i) => ({
      name: PATHS[path].label,
      color: PALETTE[i % PALETTE.length],
      dashed: PATHS[path].baseline,
      points: rows
        .filter((r) => r.path === path && r.binary === binary)
        .sort((a, b) => a.size - b.size)
        .map((r) => [r.size, r.mbps!] as [number, number]),
    }));
  const panel = (binary: boolean, x: number) =>
    chart({ x, y: 0, width: 520, height: 440 }, {
      title: `Throughput, ${binary ? "binary" : "string"} messages`,
      xAxis,
      yAxis,
      series: series(binary),
      legend: false,
    });
  // One legend for both panels: a path missing from one still has its colour.
  const all = series(true).map((s, i) => ({
    ...s,
    points: [...s.points, ...series(false)[i].points],
  }));
  return renderSvg(1040, 540, [
    panel(true, 0),
    panel(false, 520),
    legend({ x: 64, y: 444, width: 960, height: 80 }, all, 3),
  ], runNote(results) + "; dashed: baselines");
}

/** Where a percentile lands on a chart: −log10(1 − p), with "max" a little past p99.9. */
function percentileX(p: number): number {
  return p >= 100 ? 3.5 : -Math.log10(1 - p / 100);
}

const PERCENTILE_TICKS = [50, 90, 99, 99.9, 100];

function percentileAxis() {
  return {
    position: (v: number) => (v - percentileX(25)) / (percentileX(100) - percentileX(25)),
    ticks: PERCENTILE_TICKS.map((p) => ({
      value: percentileX(p),
      label: p >= 100 ? "max" : `p${p}`,
    })),
    label: "percentile",
  };
}

function curveSeries(
  name: string,
  curve: [number, number][] | undefined,
  color: string,
  dashed = false,
): Series {
  return {
    name,
    color,
    dashed,
    points: (curve ?? []).filter(([p]) => p >= 25).map(([p, v]) => [percentileX(p), v]),
  };
}

/** A chart of percentile curves, log scale in ms, with optional target lines. */
function percentileChart(
  results: Results,
  title: string,
  series: Series[],
  note: string,
  references: { y: number; label: string }[] = [],
): string {
  const values = [
    ...series.flatMap((s) => s.points.map(([, v]) => v)),
    ...references.map((r) => r.y),
  ].filter((v) => v > 0);
  const lo = Math.max(0.01, Math.min(...values, 1) / 1.5);
  const hi = Math.max(...values, 1) * 1.5;
  const ticks = decades(lo, hi).flatMap((d) => [d, 2 * d, 5 * d]).filter((v) => v >= lo && v <= hi);
  return renderSvg(720, 440, [
    chart({ x: 0, y: 0, width: 720, height: 420 }, {
      title,
      xAxis: percentileAxis(),
      yAxis: logAxis(lo, hi, ticks, "ms (log)", String),
      series,
      references,
    }),
  ], runNote(results) + note);
}

/** Ping round-trip time percentiles of relay and direct (closed and open loop). */
export function latencyChart(results: Results): string {
  const of = (path: PathId) => results.latency.find((l) => l.path === path);
  const relay = of("relay");
  const direct = of("direct");
  return percentileChart(
    results,
    "64 B ping round-trip time, SocketPeer relay vs direct",
    [
      curveSeries("relay, ping-pong", relay?.pingpong.curve, PALETTE[0]),
      curveSeries("direct, ping-pong", direct?.pingpong.curve, PALETTE[2]),
      curveSeries(
        `relay, open loop ${relay?.openloop.rate ?? ""}/s`,
        relay?.openloop.curve,
        PALETTE[0],
        true,
      ),
      curveSeries(
        `direct, open loop ${direct?.openloop.rate ?? ""}/s`,
        direct?.openloop.curve,
        PALETTE[2],
        true,
      ),
    ],
    "; open loop: timed from when each ping was due",
  );
}

/** Time to upgrade percentiles, Deno and browser peers, with the targets. */
export function upgradeChart(results: Results): string {
  return percentileChart(
    results,
    "Time to upgrade: pairing to DataChannel open",
    [
      curveSeries("Deno peers (node-datachannel)", results.upgrade.deno?.curve, PALETTE[0]),
      curveSeries(
        "bare node-datachannel, no SocketPeer (baseline)",
        results.upgrade.raw?.curve,
        PALETTE[7],
        true,
      ),
      curveSeries("browser peers (Chromium)", results.upgrade.browser?.curve, PALETTE[1]),
    ],
    "",
    [
      { y: TARGETS.upgradeP50Ms, label: `target p50 ≤ ${TARGETS.upgradeP50Ms} ms` },
      { y: TARGETS.upgradeP99Ms, label: `target p99 ≤ ${TARGETS.upgradeP99Ms} ms` },
    ],
  );
}
