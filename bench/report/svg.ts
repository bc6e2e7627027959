/**
 * A small SVG line-chart writer: axes with ticks and grid, any scale (a function from data to
 * 0…1), polylines with point markers, dashed reference lines and a legend. Enough for the
 * benchmark's charts, no dependency.
 *
 * @example
 * ```ts
 * const svg = renderSvg(720, 420, [
 *   chart({ x: 0, y: 0, width: 720, height: 420 }, {
 *     title: "MB/s", xAxis: linearAxis(0, 10, [0, 5, 10]), yAxis: linearAxis(0, 1, [0, 1]),
 *     series: [{ name: "a", points: [[0, 0], [10, 1]] }],
 *   }),
 * ]);
 * ```
 *
 * @module
 */

/** An axis: where a value lands (0 at the start, 1 at the end) and its ticks. */
export interface Axis {
  position(value: number): number;
  ticks: { value: number; label: string }[];
  label?: string;
}

/** One line. */
export interface Series {
  name: string;
  points: [number, number][];
  color?: string;
  dashed?: boolean;
}

/** A horizontal reference line (a target). */
export interface Reference {
  y: number;
  label: string;
}

/** What one chart shows. */
export interface ChartSpec {
  title: string;
  xAxis: Axis;
  yAxis: Axis;
  series: Series[];
  references?: Reference[];
  /** Draw the legend inside the plot (default), or not (draw it with {@linkcode legend}). */
  legend?: boolean;
}

/** A rectangle of the picture. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Distinct colours, in order (colour-blind friendly, after Okabe and Ito). */
export const PALETTE = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#999999",
  "#F0E442",
];

/** Escapes text for SVG. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

/** An axis through `position`, with `ticks` labelled by `format`. */
function axis(
  position: (v: number) => number,
  ticks: number[],
  label: string | undefined,
  format: (v: number) => string,
): Axis {
  return { position, ticks: ticks.map((value) => ({ value, label: format(value) })), label };
}

/** A linear axis from `min` to `max`. */
export function linearAxis(
  min: number,
  max: number,
  ticks: number[],
  label?: string,
  format: (v: number) => string = String,
): Axis {
  return axis((v) => (v - min) / (max - min), ticks, label, format);
}

/** A logarithmic axis from `min` to `max` (both > 0). */
export function logAxis(
  min: number,
  max: number,
  ticks: number[],
  label?: string,
  format: (v: number) => string = String,
): Axis {
  const lo = Math.log(min);
  const span = Math.log(max) - lo;
  return axis((v) => (Math.log(Math.max(v, min)) - lo) / span, ticks, label, format);
}

/** Powers of ten covering `min`…`max`, for log-axis ticks. */
export function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
  return out;
}

/**
 * Draws one chart into `box`.
 *
 * @returns SVG elements (no `<svg>` wrapper).
 */
export function chart(box: Box, spec: ChartSpec): string {
  const margin = { left: 64, right: 16, top: 34, bottom: 48 };
  const legendWidth = 0;
  const plot = {
    x: box.x + margin.left,
    y: box.y + margin.top,
    w: box.width - margin.left - margin.right - legendWidth,
    h: box.height - margin.top - margin.bottom,
  };
  const px = (v: number) => plot.x + spec.xAxis.position(v) * plot.w;
  const py = (v: number) => plot.y + (1 - spec.yAxis.position(v)) * plot.h;
  const parts: string[] = [];
  parts.push(
    `<text x="${fmt(box.x + box.width / 2)}" y="${fmt(box.y + 20)}" text-anchor="middle" ` +
      `font-size="14" font-weight="bold">${escapeXml(spec.title)}</text>`,
  );
  parts.push(
    `<rect x="${fmt(plot.x)}" y="${fmt(plot.y)}" width="${fmt(plot.w)}" height="${fmt(plot.h)}" ` +
      `fill="none" stroke="#444"/>`,
  );
  for (const t of spec.xAxis.ticks) {
    const x = fmt(px(t.value));
    parts.push(
      `<line x1="${x}" y1="${fmt(plot.y)}" x2="${x}" y2="${fmt(plot.y + plot.h)}" stroke="#ddd"/>`,
      `<text x="${x}" y="${fmt(plot.y + plot.h + 16)}" text-anchor="middle" font-size="11">` +
        `${escapeXml(t.label)}</text>`,
    );
  }
  for (const t of spec.yAxis.ticks) {
    const y = fmt(py(t.value));
    parts.push(
      `<line x1="${fmt(plot.x)}" y1="${y}" x2="${fmt(plot.x + plot.w)}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${fmt(plot.x - 6)}" y="${y}" text-anchor="end" dominant-baseline="middle" ` +
        `font-size="11">${escapeXml(t.label)}</text>`,
    );
  }
  if (spec.xAxis.label) {
    parts.push(
      `<text x="${fmt(plot.x + plot.w / 2)}" y="${fmt(plot.y + plot.h + 36)}" ` +
        `text-anchor="middle" font-size="12">${escapeXml(spec.xAxis.label)}</text>`,
    );
  }
  if (spec.yAxis.label) {
    const cx = fmt(box.x + 16);
    const cy = fmt(plot.y + plot.h / 2);
    parts.push(
      `<text x="${cx}" y="${cy}" text-anchor="middle" font-size="12" ` +
        `transform="rotate(-90 ${cx} ${cy})">${escapeXml(spec.yAxis.label)}</text>`,
    );
  }
  for (const ref of spec.references ?? []) {
    const y = fmt(py(ref.y));
    parts.push(
      `<line x1="${fmt(plot.x)}" y1="${y}" x2="${fmt(plot.x + plot.w)}" y2="${y}" ` +
        `stroke="#c00" stroke-dasharray="6 4"/>`,
      `<text x="${fmt(plot.x + plot.w - 4)}" y="${fmt(py(ref.y) - 4)}" text-anchor="end" ` +
        `font-size="11" fill="#c00">${escapeXml(ref.label)}</text>`,
    );
  }
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const points = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (points.length === 0) return;
    const coords = points.map(([x, y]) => `${fmt(px(x))},${fmt(py(y))}`).join(" ");
    parts.push(
      `<polyline points="${coords}" fill="none" stroke="${color}" stroke-width="2"` +
        `${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`,
    );
    for (const [x, y] of points) {
      parts.push(`<circle cx="${fmt(px(x))}" cy="${fmt(py(y))}" r="2.5" fill="${color}"/>`);
    }
  });
  if (spec.legend !== false) {
    parts.push(
      legend({ x: plot.x + 8, y: plot.y + 4, width: plot.w, height: plot.h }, spec.series, 1),
    );
  }
  return parts.join("\n");
}

/**
 * Draws the legend of `series` in `box`, in `columns` columns (series without a point are left
 * out).
 */
export function legend(box: Box, series: Series[], columns: number): string {
  const parts: string[] = [];
  const shown = series
    .map((s, i) => ({ s, color: s.color ?? PALETTE[i % PALETTE.length] }))
    .filter(({ s }) => s.points.some(([x, y]) => Number.isFinite(x + y)));
  const width = box.width / columns;
  shown.forEach(({ s, color }, n) => {
    const x = box.x + (n % columns) * width;
    const y = box.y + 8 + Math.floor(n / columns) * 16;
    parts.push(
      `<line x1="${fmt(x)}" y1="${fmt(y)}" x2="${fmt(x + 20)}" y2="${fmt(y)}" ` +
        `stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`,
      `<text x="${fmt(x + 25)}" y="${fmt(y)}" dominant-baseline="middle" font-size="11">` +
        `${escapeXml(s.name)}</text>`,
    );
  });
  return parts.join("\n");
}

/** Wraps charts into one SVG document with a white background. */
export function renderSvg(width: number, height: number, charts: string[], note?: string): string {
  const foot = note
    ? `<text x="8" y="${height - 6}" font-size="10" fill="#555">${escapeXml(note)}</text>\n`
    : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${charts.join("\n")}\n${foot}</svg>\n`;
}
