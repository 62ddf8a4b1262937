/**
 * One hand-written SVG per scenario: replicas over time, a line per policy (left axis), and the offered
 * load in requests per second (grey area, right axis), so a person can see each policy's behaviour.
 * Pure: series in, SVG text out.
 */

export interface PlotSeries {
  readonly name: string;
  /** [minute, replicas] in time order. */
  readonly points: readonly (readonly [number, number])[];
  /** Drawn dashed (the references). */
  readonly dashed?: boolean;
}

export interface PlotInput {
  readonly title: string;
  readonly series: readonly PlotSeries[];
  /** [minute, req/s] in time order. */
  readonly load: readonly (readonly [number, number])[];
  readonly width?: number;
  readonly height?: number;
}

/** Colour-blind-safe palette (Okabe–Ito), then greys. */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#777777'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at least `x`. */
export function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

export function renderPlotSvg(input: PlotInput): string {
  const width = input.width ?? 960;
  const height = input.height ?? 420;
  const m = { left: 56, right: 64, top: 36, bottom: 48 };
  const legendW = 170;
  const plotW = width - m.left - m.right - legendW;
  const plotH = height - m.top - m.bottom;
  const allX = [...input.load.map((p) => p[0]), ...input.series.flatMap((s) => s.points.map((p) => p[0]))];
  // The run's own length on x (a nice maximum would leave an empty tail), nice maxima on y.
  const xMax = Math.max(1, ...allX);
  const yMax = niceMax(Math.max(1, ...input.series.flatMap((s) => s.points.map((p) => p[1]))) + 1);
  const rMax = niceMax(Math.max(1, ...input.load.map((p) => p[1])));
  const x = (v: number): number => m.left + (v / xMax) * plotW;
  const y = (v: number): number => m.top + plotH - (v / yMax) * plotH;
  const yr = (v: number): number => m.top + plotH - (v / rMax) * plotH;
  const f = (v: number): string => v.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${m.left}" y="20" font-size="14" font-weight="bold">${esc(input.title)}</text>`,
  ];
  // Load: a grey area on the right axis.
  if (input.load.length > 0) {
    const pts = input.load.map(([a, b]) => `${f(x(a))},${f(yr(b))}`);
    const first = input.load[0];
    const last = input.load[input.load.length - 1];
    if (first && last) {
      out.push(
        `<polygon fill="#dddddd" stroke="none" points="${f(x(first[0]))},${f(yr(0))} ${pts.join(' ')} ${f(x(last[0]))},${f(yr(0))}"/>`,
      );
    }
  }
  // Axes, grid and ticks.
  for (let i = 0; i <= 5; i++) {
    const vy = (yMax * i) / 5;
    const vr = (rMax * i) / 5;
    const py = y(vy);
    out.push(`<line x1="${m.left}" y1="${f(py)}" x2="${m.left + plotW}" y2="${f(py)}" stroke="#eeeeee"/>`);
    out.push(`<text x="${m.left - 6}" y="${f(py + 4)}" text-anchor="end">${+vy.toFixed(1)}</text>`);
    out.push(`<text x="${m.left + plotW + 6}" y="${f(py + 4)}" fill="#777777">${+vr.toFixed(1)}</text>`);
    const vx = (xMax * i) / 5;
    out.push(`<text x="${f(x(vx))}" y="${m.top + plotH + 18}" text-anchor="middle">${+vx.toFixed(1)}</text>`);
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`,
    `<text x="${m.left + plotW / 2}" y="${height - 10}" text-anchor="middle">minutes</text>`,
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">replicas (pending included)</text>`,
    `<text transform="translate(${m.left + plotW + 50} ${m.top + plotH / 2}) rotate(90)" text-anchor="middle" fill="#777777">` +
      'offered req/s (grey)</text>',
  );
  // One step line per policy: replicas hold until the next cycle.
  for (const [i, s] of input.series.entries()) {
    const colour = COLOURS[i % COLOURS.length] ?? '#000000';
    const pts: string[] = [];
    for (const [j, [a, b]] of s.points.entries()) {
      if (j > 0) pts.push(`${f(x(a))},${f(y(s.points[j - 1]?.[1] ?? b))}`);
      pts.push(`${f(x(a))},${f(y(b))}`);
    }
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.6"${dash} points="${pts.join(' ')}"/>`);
    const ly = m.top + 8 + i * 18;
    const lx = width - legendW + 4;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 28}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
