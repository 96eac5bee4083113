/**
 * Auto-contrast for display: percentiles of a sample of sections, so opening a multi-gigabyte
 * tomogram reads a few sections instead of the whole file.
 */
import type { Slice2D } from '../volume/slice.js';
import { percentiles } from '../volume/stats.js';

export interface DisplayRange {
  /** Display window: the 0.5th and 99.5th percentiles. */
  low: number;
  high: number;
  /** Extremes of the sample: the bounds of the manual window controls. */
  min: number;
  max: number;
}

/** Sections sampled for auto-contrast, spread over the central 80% (edges are often empty or ramped). */
export function contrastSections(nz: number, count = 5): number[] {
  if (nz <= count) return Array.from({ length: nz }, (_, i) => i);
  const lo = Math.floor(nz * 0.1);
  const hi = Math.ceil(nz * 0.9) - 1;
  return Array.from({ length: count }, (_, i) => Math.round(lo + ((hi - lo) * i) / (count - 1)));
}

/** Percentile window of the sampled sections. */
export function percentileRange(sections: Slice2D[]): DisplayRange {
  const all = new Float32Array(sections.reduce((n, s) => n + s.data.length, 0));
  let at = 0;
  for (const s of sections) {
    all.set(s.data, at);
    at += s.data.length;
  }
  const [min, low, high, max] = percentiles(all, [0, 0.5, 99.5, 100], 250_000);
  if (!Number.isFinite(min)) return { low: 0, high: 1, min: 0, max: 1 };
  // A constant image still needs a non-empty window.
  if (high > low) return { low, high, min, max };
  return { low: min, high: max > min ? max : min + 1, min, max: max > min ? max : min + 1 };
}
