/**
 * Robust intensity normalisation of tomograms. Convention used throughout cryosam: after
 * normalisation the median is 0 and the robust standard deviation (IQR / 1.349, i.e. σ for Gaussian
 * noise) is 1, and values beyond the `low`/`high` percentiles are clipped there, so hot pixels and
 * gold beads cannot dominate. Contrast polarity is kept (protein stays dark in cryo-ET).
 */
import { CryosamError } from '../errors.js';
import { percentiles, type NumericArray } from './stats.js';
import type { Volume, VoxelArray } from './volume.js';

export interface RobustRange {
  /** Lower clipping percentile (0–100), default 0.5. */
  low?: number;
  /** Upper clipping percentile (0–100), default 99.5. */
  high?: number;
  /** Values sampled for the percentiles (deterministic stride), default 1e6. */
  maxSamples?: number;
}

/** The affine map value → (value − center) / scale, then clipped to [lo, hi] (in output units). */
export interface RobustScaling {
  center: number;
  scale: number;
  lo: number;
  hi: number;
}

/** IQR of a unit Gaussian: IQR / 1.349 estimates σ. */
const IQR_PER_SIGMA = 1.3489795;

/** Measures the scaling normalizeRobust applies, so callers can apply one volume's scaling to slices. */
export function robustScaling(data: NumericArray, range: RobustRange = {}): RobustScaling {
  const low = range.low ?? 0.5;
  const high = range.high ?? 99.5;
  if (!(low < high)) throw new CryosamError(`normalisation percentiles must satisfy low < high (got ${low}, ${high})`);
  const [pLow, q1, median, q3, pHigh] = percentiles(data, [low, 25, 50, 75, high], range.maxSamples ?? 1e6);
  if (!Number.isFinite(median)) throw new CryosamError('cannot normalise: no finite values');
  let scale = (q3 - q1) / IQR_PER_SIGMA;
  // Mostly-constant data (e.g. masked volumes) has zero IQR; fall back to the clipping range.
  if (!(scale > 0)) scale = (pHigh - pLow) / (2 * IQR_PER_SIGMA);
  if (!(scale > 0)) scale = 1;
  return { center: median, scale, lo: (pLow - median) / scale, hi: (pHigh - median) / scale };
}

/** Applies a scaling to `src`, writing `dst` (may be the same array); NaN becomes 0, ±Inf is clipped. */
export function applyScaling(src: NumericArray, dst: Float32Array, s: RobustScaling): void {
  const inv = 1 / s.scale;
  for (let i = 0; i < src.length; i++) {
    const v = (src[i] - s.center) * inv;
    dst[i] = v < s.lo ? s.lo : v > s.hi ? s.hi : v === v ? v : 0;
  }
}

/**
 * Normalises a tomogram to median 0 / robust σ 1, clipped at the given percentiles. With `inPlace`
 * a Float32 volume is overwritten; otherwise (or for integer data) a new Float32 volume is returned.
 */
export function normalizeRobust(vol: Volume<VoxelArray>, range: RobustRange = {}, inPlace = false): Volume {
  const scaling = robustScaling(vol.data, range);
  const dst = inPlace && vol.data instanceof Float32Array ? vol.data : new Float32Array(vol.data.length);
  applyScaling(vol.data, dst, scaling);
  return { ...vol, data: dst };
}

/** Replaces NaN and ±Inf by `value` in place; returns how many were replaced. */
export function clampNonFinite(data: Float32Array | Float64Array, value = 0): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      data[i] = value;
      n++;
    }
  }
  return n;
}
