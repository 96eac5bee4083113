/**
 * Line / scatter plots as PNG (pngjs), with axes, ticks, labels, a legend and optional error bars,
 * for benchmark and evaluation reports. Text uses the 5×7 bitmap font, drawn at 2× for titles.
 */
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../io/atomic.js';
import { CryosamError } from '../errors.js';
import { CHAR_ADVANCE, GLYPH_HEIGHT, glyph, textWidth } from './font5x7.js';

export type Rgb = readonly [number, number, number];

export interface PlotSeries {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** ± error of each point (e.g. standard deviation over seeds), drawn as a vertical bar. */
  errors?: readonly number[];
  /** 'line' joins points, 'points' draws markers only, 'both' (default) does both. */
  style?: 'line' | 'points' | 'both';
  color?: Rgb;
}

export interface LinePlot {
  title: string;
  xLabel: string;
  yLabel: string;
  series: PlotSeries[];
  /** Image size in pixels (default 640 × 420). */
  width?: number;
  height?: number;
  /** Axis ranges; default: the data's range (with error bars) widened to round tick values. */
  xRange?: readonly [number, number];
  yRange?: readonly [number, number];
}

/** Distinct colours for series without their own (Tableau 10). */
export const SERIES_COLORS: readonly Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];
const MARGIN = { left: 64, right: 16, top: 34, bottom: 46 };

export interface RenderedPlot {
  png: PNG;
  /** Maps data coordinates to pixel coordinates (column, row) of the image. */
  toPixel: (x: number, y: number) => [number, number];
}

export function renderLinePlot(plot: LinePlot): RenderedPlot {
  const width = plot.width ?? 640;
  const height = plot.height ?? 420;
  if (width < MARGIN.left + MARGIN.right + 40 || height < MARGIN.top + MARGIN.bottom + 40) {
    throw new CryosamError(`plot '${plot.title}' is too small: ${width} × ${height} pixels`);
  }
  const canvas = new Canvas(width, height);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of plot.series) {
    s.points.forEach(([x, y], i) => {
      if (!Number.isFinite(x) || !Number.isFinite(y)) return;
      const e = s.errors?.[i] ?? 0;
      xs.push(x);
      ys.push(y - e, y + e);
    });
  }
  const xAxis = niceAxis(plot.xRange ?? extent(xs));
  const yAxis = niceAxis(plot.yRange ?? extent(ys));
  const x0 = MARGIN.left;
  const x1 = width - MARGIN.right;
  const y0 = height - MARGIN.bottom;
  const y1 = MARGIN.top;
  const toPixel = (x: number, y: number): [number, number] => [
    x0 + ((x - xAxis.min) / (xAxis.max - xAxis.min)) * (x1 - x0),
    y0 - ((y - yAxis.min) / (yAxis.max - yAxis.min)) * (y0 - y1),
  ];

  // Grid and tick labels first, so data draws on top.
  for (const t of xAxis.ticks) {
    const [px] = toPixel(t, yAxis.min);
    canvas.line(px, y0, px, y1, GRID, 1);
    canvas.line(px, y0, px, y0 + 4, BLACK, 1);
    const label = formatTick(t, xAxis.step);
    canvas.text(label, px - textWidth(label) / 2, y0 + 8, BLACK);
  }
  for (const t of yAxis.ticks) {
    const [, py] = toPixel(xAxis.min, t);
    canvas.line(x0, py, x1, py, GRID, 1);
    canvas.line(x0 - 4, py, x0, py, BLACK, 1);
    const label = formatTick(t, yAxis.step);
    canvas.text(label, x0 - 7 - textWidth(label), py - GLYPH_HEIGHT / 2, BLACK);
  }
  canvas.line(x0, y0, x1, y0, BLACK, 1);
  canvas.line(x0, y0, x0, y1, BLACK, 1);
  canvas.text(plot.title, (width - 2 * textWidth(plot.title)) / 2, 8, BLACK, 2);
  canvas.text(plot.xLabel, (x0 + x1 - textWidth(plot.xLabel)) / 2, height - 16, BLACK);
  canvas.verticalText(plot.yLabel, 8, (y0 + y1 + textWidth(plot.yLabel)) / 2, BLACK);

  // Data may overdraw the frame by a marker's half-width, so points on the axis limits stay whole.
  canvas.clip = { x0: x0 - 3, x1: x1 + 3, y0: y1 - 3, y1: y0 + 3 };
  plot.series.forEach((s, index) => {
    const color = s.color ?? SERIES_COLORS[index % SERIES_COLORS.length];
    const style = s.style ?? 'both';
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (style !== 'points') {
      for (let i = 1; i < pts.length; i++) {
        const [ax, ay] = toPixel(pts[i - 1][0], pts[i - 1][1]);
        const [bx, by] = toPixel(pts[i][0], pts[i][1]);
        canvas.line(ax, ay, bx, by, color, 2);
      }
    }
    s.points.forEach(([x, y], i) => {
      if (!Number.isFinite(x) || !Number.isFinite(y)) return;
      const [px, py] = toPixel(x, y);
      const e = s.errors?.[i];
      if (e !== undefined && e > 0) {
        const [, top] = toPixel(x, y + e);
        const [, bottom] = toPixel(x, y - e);
        canvas.line(px, top, px, bottom, color, 1);
        canvas.line(px - 3, top, px + 3, top, color, 1);
        canvas.line(px - 3, bottom, px + 3, bottom, color, 1);
      }
      if (style !== 'line') canvas.fillRect(px - 2, py - 2, 5, 5, color);
    });
  });
  canvas.clip = undefined;

  // Legend in the top-right corner of the plot area, on white so it stays readable over data.
  const legendWidth = Math.max(0, ...plot.series.map((s) => textWidth(s.name))) + 30;
  const lx = x1 - legendWidth - 6;
  let ly = y1 + 6;
  if (plot.series.length > 0) {
    canvas.fillRect(lx - 4, ly - 4, legendWidth + 8, plot.series.length * 12 + 6, [255, 255, 255]);
    plot.series.forEach((s, index) => {
      const color = s.color ?? SERIES_COLORS[index % SERIES_COLORS.length];
      canvas.line(lx, ly + 3, lx + 18, ly + 3, color, 2);
      canvas.text(s.name, lx + 24, ly, BLACK);
      ly += 12;
    });
  }
  return { png: canvas.png, toPixel };
}

/** Renders the plot and writes it as a PNG file (atomically). */
export async function plotLines(plot: LinePlot, path: string): Promise<void> {
  const { png } = renderLinePlot(plot);
  await writeFileAtomic(path, PNG.sync.write(png));
}

interface Axis {
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

function extent(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

/** About five ticks at 1-2-5 multiples; the axis is widened to whole steps. */
function niceAxis([lo, hi]: readonly [number, number]): Axis {
  if (hi <= lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let t = min; t <= max + step * 1e-6; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return { min, max, step, ticks };
}

function formatTick(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return value.toFixed(decimals);
}

/** An RGBA pixel buffer with the few drawing operations plots need. */
class Canvas {
  readonly png: PNG;
  clip?: { x0: number; x1: number; y0: number; y1: number };

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.png = new PNG({ width, height });
    this.png.data.fill(255);
  }

  set(x: number, y: number, [r, g, b]: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const c = this.clip;
    if (c && (x < c.x0 || x > c.x1 || y < c.y0 || y > c.y1)) return;
    const i = (y * this.width + x) * 4;
    this.png.data[i] = r;
    this.png.data[i + 1] = g;
    this.png.data[i + 2] = b;
    this.png.data[i + 3] = 255;
  }

  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    for (let dy = 0; dy < h; dy++) for (let dx = 0; dx < w; dx++) this.set(x + dx, y + dy, color);
  }

  /** A line of the given thickness, stepped one pixel at a time along its longer extent. */
  line(ax: number, ay: number, bx: number, by: number, color: Rgb, thickness: number): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(bx - ax), Math.abs(by - ay))));
    const offset = Math.floor((thickness - 1) / 2);
    for (let s = 0; s <= steps; s++) {
      const x = Math.round(ax + ((bx - ax) * s) / steps) - offset;
      const y = Math.round(ay + ((by - ay) * s) / steps) - offset;
      this.fillRect(x, y, thickness, thickness, color);
    }
  }

  text(text: string, x: number, y: number, color: Rgb, scale = 1): void {
    let cx = Math.round(x);
    for (const ch of text) {
      const rows = glyph(ch);
      for (let r = 0; r < GLYPH_HEIGHT; r++) {
        for (let c = 0; c < 5; c++) {
          if ((rows[r] >> (4 - c)) & 1) this.fillRect(cx + c * scale, Math.round(y) + r * scale, scale, scale, color);
        }
      }
      cx += CHAR_ADVANCE * scale;
    }
  }

  /** Text rotated 90° anticlockwise, reading bottom to top from (x, yBottom). */
  verticalText(text: string, x: number, yBottom: number, color: Rgb): void {
    let cy = Math.round(yBottom);
    for (const ch of text) {
      const rows = glyph(ch);
      for (let r = 0; r < GLYPH_HEIGHT; r++) {
        for (let c = 0; c < 5; c++) if ((rows[r] >> (4 - c)) & 1) this.set(x + r, cy - c, color);
      }
      cy -= CHAR_ADVANCE;
    }
  }
}
