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
import { percentiles, volumeStats } from '../../volume/stats.js';

export type { IntensityStats };

/** Percentiles come from at most this many evenly strided values (a whole 1000×1000 slice; a sample of a tomogram). */
const PERCENTILE_SAMPLES = 1 << 20;
export const LOW_PERCENTILE = 0.5;
export const HIGH_PERCENTILE = 99.5;

/** Mean, standard deviation and 0.5/99.5 percentiles (of a strided sample: robust to any outlier). */
export function intensityStats(data: Float32Array): IntensityStats {
  if (data.length === 0) return { mean: 0, std: 1, low: 0, high: 1 };
  const { mean, rms } = volumeStats(data);
  const [low, high] = percentiles(data, [LOW_PERCENTILE, HIGH_PERCENTILE], PERCENTILE_SAMPLES);
  return { mean, std: rms, low, high };
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
