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

import type { Slice2D } from '../../volume/slice.js';
import { intensityStats, type IntensityStats } from '../../volume/stats.js';

// The pipeline's old import path; new code takes both from volume/stats.js.
export { intensityStats, type IntensityStats };

/** The statistics a slice is mapped with: the tomogram's when the engine was given them, else the slice's own. */
export function sliceIntensity(volumeStats: IntensityStats | undefined, slice: Slice2D): IntensityStats {
  return volumeStats ?? intensityStats(slice.data);
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
