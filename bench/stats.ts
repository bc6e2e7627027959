/**
 * Small statistics of the benchmark: percentiles, medians and spreads.
 *
 * @module
 */

/** A summary of a sample of durations (ms). */
export interface Distribution {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** The percentile points of {@linkcode percentileCurve}, for charts. */
export const CURVE_POINTS = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100];

/**
 * The `p`th percentile (0–100) of sorted values, nearest rank.
 *
 * @param sorted Ascending values.
 * @param p The percentile.
 * @returns The value, or NaN for an empty sample.
 */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Summarizes a sample, rounded to microseconds. */
export function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 1000) / 1000;
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  return {
    n: sorted.length,
    p50: r(percentile(sorted, 50)),
    p90: r(percentile(sorted, 90)),
    p99: r(percentile(sorted, 99)),
    p999: r(percentile(sorted, 99.9)),
    max: r(sorted.at(-1) ?? NaN),
    mean: r(mean),
  };
}

/** The values at {@linkcode CURVE_POINTS}, for a percentile chart. */
export function percentileCurve(values: number[]): [number, number][] {
  const sorted = [...values].sort((a, b) => a - b);
  return CURVE_POINTS.map((p) => [p, Math.round(percentile(sorted, p) * 1000) / 1000]);
}

/** The median of values (NaN when empty). */
export function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** (max − min) / median of repeated measurements: 0 for one measurement, NaN for none. */
export function spread(values: number[]): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return NaN;
  const m = median(finite);
  return m === 0 ? 0 : (Math.max(...finite) - Math.min(...finite)) / m;
}
