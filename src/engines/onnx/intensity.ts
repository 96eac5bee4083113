/**
 * Intensity statistics and mappings that turn raw tomogram densities (arbitrary units, often
 * centred near 0) into the value ranges pretrained 2D encoders saw in training.
 *
 * Policy: when the caller passes statistics of the whole tomogram (setVolumeStats on an engine),
 * every slice is mapped with the same numbers, so a particle has the same grey level on every
 * slice and propagation compares like with like; without them each slice uses its own statistics.
 * The 0.5/99.5 percentiles (not min/max) set the 0..255 range, so a few hot pixels or gold
 * fiducials cannot squash the particles' contrast into a handful of grey levels.
 */

import type { IntensityStats } from '../types.js';

export type { IntensityStats };

/** Percentiles come from at most this many evenly strided values (a whole 1000×1000 slice; a sample of a tomogram). */
const PERCENTILE_SAMPLES = 1 << 20;
export const LOW_PERCENTILE = 0.5;
export const HIGH_PERCENTILE = 99.5;

/** Mean, standard deviation and 0.5/99.5 percentiles (sorted sample: robust to any outlier). */
export function intensityStats(data: ArrayLike<number>): IntensityStats {
  const n = data.length;
  if (n === 0) return { mean: 0, std: 1, low: 0, high: 1 };
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / n;
  const std = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
  const step = Math.max(1, Math.floor(n / PERCENTILE_SAMPLES));
  const sample = new Float32Array(Math.ceil(n / step));
  for (let i = 0, k = 0; i < n; i += step, k++) sample[k] = data[i];
  sample.sort();
  const at = (p: number) => {
    const pos = (p / 100) * (sample.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(sample.length - 1, lo + 1);
    return sample[lo] + (sample[hi] - sample[lo]) * (pos - lo);
  };
  return { mean, std, low: at(LOW_PERCENTILE), high: at(HIGH_PERCENTILE) };
}

/** Maps [low, high] linearly to [0, 255], clipping outside (a constant image maps to mid-grey). */
export function toByteRange(data: Float32Array, low: number, high: number): Float32Array {
  const out = new Float32Array(data.length);
  if (!(high > low)) return out.fill(127.5);
  const k = 255 / (high - low);
  for (let i = 0; i < data.length; i++) {
    const v = (data[i] - low) * k;
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** Standard score (v - mean) / std; a constant image maps to 0. */
export function zScore(data: Float32Array, mean: number, std: number): Float32Array {
  const out = new Float32Array(data.length);
  const k = std > 0 ? 1 / std : 0;
  for (let i = 0; i < data.length; i++) out[i] = (data[i] - mean) * k;
  return out;
}
