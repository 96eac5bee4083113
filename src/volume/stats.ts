/** Summary statistics of voxel (or pixel) arrays, in one pass and without copies of the data. */
import { CryosamError } from '../errors.js';
import type { VoxelArray } from './volume.js';

export type NumericArray = VoxelArray | Float64Array;

export interface VolumeStats {
  min: number;
  max: number;
  mean: number;
  /** Standard deviation about the mean (the MRC header's rms). */
  rms: number;
}

/** min, max, mean and rms of the finite values (NaN/±Inf are skipped); all NaN when none is finite. */
export function volumeStats(data: NumericArray): VolumeStats {
  let min = Infinity;
  let max = -Infinity;
  let n = 0;
  // Shifted sums keep float64 precision for large arrays whose mean is far from 0.
  let shift = NaN;
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    if (n === 0) shift = v;
    if (v < min) min = v;
    if (v > max) max = v;
    const d = v - shift;
    sum += d;
    sum2 += d * d;
    n++;
  }
  if (n === 0) return { min: NaN, max: NaN, mean: NaN, rms: NaN };
  const meanShifted = sum / n;
  return { min, max, mean: shift + meanShifted, rms: Math.sqrt(Math.max(0, sum2 / n - meanShifted * meanShifted)) };
}

/**
 * Percentiles (0–100) of the finite values, linearly interpolated between order statistics (as numpy's
 * default). Arrays longer than `maxSamples` are sampled at a fixed stride, so results are deterministic.
 */
export function percentiles(data: NumericArray, ps: readonly number[], maxSamples = 1e6): number[] {
  for (const p of ps) {
    if (!(p >= 0 && p <= 100)) throw new CryosamError(`percentile ${p} is outside 0..100`);
  }
  const step = Math.max(1, Math.ceil(data.length / maxSamples));
  // Centre the sampled positions within each stride so a trend along the array is not biased.
  const start = Math.floor((step - 1) / 2);
  const sample = sampleBuffer(Math.ceil((data.length - start) / step));
  let n = 0;
  for (let i = start; i < data.length; i += step) {
    const v = data[i];
    if (Number.isFinite(v)) sample[n++] = v;
  }
  if (n === 0) return ps.map(() => NaN);
  // Order statistics by selection, not a full sort: this runs per slice in hot loops.
  const values = sample.subarray(0, n);
  return ps.map((p) => {
    const pos = (p / 100) * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    const a = select(values, lo);
    const b = hi === lo ? a : minFrom(values, hi);
    return a + (b - a) * (pos - lo);
  });
}

/** Samples of up to this many values reuse one buffer (percentiles run per slice and per block, synchronously). */
const REUSED_SAMPLES = 1 << 16;
const reusedSample = new Float64Array(REUSED_SAMPLES);

function sampleBuffer(n: number): Float64Array {
  return n <= REUSED_SAMPLES ? reusedSample.subarray(0, n) : new Float64Array(n);
}

/**
 * Rearranges `v` so that v[k] holds the k-th smallest value, smaller ones before it and larger ones
 * after (Hoare's quickselect with median-of-three pivots); returns v[k].
 */
function select(v: Float64Array, k: number): number {
  let lo = 0, hi = v.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as the pivot keeps sorted and constant inputs linear.
    const a = v[lo], b = v[mid], c = v[hi];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return v[k];
}

/** Smallest value at or after index `from` (after select(v, from - 1), the from-th order statistic). */
function minFrom(v: Float64Array, from: number): number {
  let m = v[from];
  for (let i = from + 1; i < v.length; i++) if (v[i] < m) m = v[i];
  return m;
}

/**
 * Tomogram-wide (or one slice's) intensity statistics. Engines that rescale intensities use the
 * tomogram's for every slice, so a particle keeps the same grey level on every slice it crosses.
 */
export interface IntensityStats {
  mean: number;
  std: number;
  /** 0.5th percentile. */
  low: number;
  /** 99.5th percentile. */
  high: number;
}

/** Percentiles come from at most this many evenly strided values (a whole 1000×1000 slice; a sample of a tomogram). */
const INTENSITY_PERCENTILE_SAMPLES = 1 << 20;
const LOW_PERCENTILE = 0.5;
const HIGH_PERCENTILE = 99.5;

/** Mean, standard deviation and 0.5/99.5 percentiles (of a strided sample: robust to any outlier). */
export function intensityStats(data: Float32Array): IntensityStats {
  if (data.length === 0) return { mean: 0, std: 1, low: 0, high: 1 };
  const { mean, rms } = volumeStats(data);
  const [low, high] = percentiles(data, [LOW_PERCENTILE, HIGH_PERCENTILE], INTENSITY_PERCENTILE_SAMPLES);
  return { mean, std: rms, low, high };
}

/** Pearson correlation of two equally long sequences (0 when either is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
