/**
 * Separable Gaussian smoothing of volumes and slices: reflected borders (half-sample symmetric, as
 * scipy.ndimage's 'reflect'), kernels truncated at 3σ. Each pass reads a padded block of at most
 * CHUNK lines into a small buffer, so the only full-size array is the output (passes run in place).
 */
import { CryosamError } from '../errors.js';
import type { Slice2D } from './slice.js';
import { lineLayout, reflectIndex, type LineLayout } from './lines.js';
import { voxelCount, type Volume } from './volume.js';

/** Contiguous elements filtered together: long enough for fast inner loops, small enough for cache. */
const CHUNK = 256;

/**
 * The padded block buffer, reused across calls (filtering is synchronous): slices are filtered by
 * the thousand per pick, and a fresh buffer each time left megabytes of garbage per slice.
 */
let blockBuffer = new Float32Array(0);

/** Normalised Gaussian kernel of radius ceil(truncate·σ); σ = 0 gives the identity [1]. */
export function gaussianKernel(sigma: number, truncate = 3): Float32Array {
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new CryosamError(`Gaussian σ must be ≥ 0 (got ${sigma})`);
  if (sigma === 0) return Float32Array.of(1);
  const r = Math.max(1, Math.ceil(truncate * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    k[i + r] = Math.exp((-0.5 * i * i) / (sigma * sigma));
    sum += k[i + r];
  }
  return Float32Array.from(k, (v) => v / sum);
}

/**
 * Convolves every line of `src` (seen as `layout`) with a symmetric odd-length kernel, writing `dst`.
 * `dst` may be `src`: each block is copied to the padded buffer before it is overwritten.
 */
export function convolveLines(src: Float32Array, dst: Float32Array, layout: LineLayout, kernel: Float32Array): void {
  const { outer, n, inner } = layout;
  const r = (kernel.length - 1) >> 1;
  const w0 = kernel[r];
  const chunk = Math.min(inner, CHUNK);
  if (blockBuffer.length < (n + 2 * r) * chunk) blockBuffer = new Float32Array((n + 2 * r) * chunk);
  const buf = blockBuffer;
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let j0 = 0; j0 < inner; j0 += chunk) {
      const m = Math.min(chunk, inner - j0);
      for (let p = 0; p < n + 2 * r; p++) {
        const from = base + reflectIndex(p - r, n) * inner + j0;
        for (let j = 0; j < m; j++) buf[p * m + j] = src[from + j];
      }
      if (m === 1) {
        // Lines along the contiguous axis: a scalar loop beats the block loop of length one.
        for (let i = 0; i < n; i++) {
          const c = i + r;
          let s = w0 * buf[c];
          for (let k = 1; k <= r; k++) s += kernel[r + k] * (buf[c - k] + buf[c + k]);
          dst[base + i * inner + j0] = s;
        }
        continue;
      }
      for (let i = 0; i < n; i++) {
        const row = base + i * inner + j0;
        const c = (i + r) * m;
        for (let j = 0; j < m; j++) dst[row + j] = w0 * buf[c + j];
        for (let k = 1; k <= r; k++) {
          const wk = kernel[r + k];
          const a = c - k * m;
          const b = c + k * m;
          for (let j = 0; j < m; j++) dst[row + j] += wk * (buf[a + j] + buf[b + j]);
        }
      }
    }
  }
}

/** Smooths along each dimension of a C-ordered array of `dims` with its own σ (in samples). */
function gaussianSeparable(src: Float32Array, dims: readonly number[], sigmas: readonly number[], out: Float32Array): void {
  let from = src;
  for (let d = dims.length - 1; d >= 0; d--) {
    if (sigmas[d] === 0) continue;
    convolveLines(from, out, lineLayout(dims, d), gaussianKernel(sigmas[d]));
    from = out;
  }
  if (from === src && out !== src) out.set(src);
}

/**
 * Gaussian-smoothed copy of a tomogram; σ in voxels, one value or [σz, σy, σx] (e.g. to smooth
 * less along z). `out` (may be vol.data) receives the result.
 */
export function gaussianFilter3d(vol: Volume, sigma: number | readonly [number, number, number], out?: Float32Array): Volume {
  const sigmas = typeof sigma === 'number' ? [sigma, sigma, sigma] : sigma;
  const dst = out ?? new Float32Array(voxelCount(vol.shape));
  if (dst.length !== vol.data.length) throw new CryosamError(`output holds ${dst.length} voxels, volume has ${vol.data.length}`);
  gaussianSeparable(vol.data, vol.shape, sigmas, dst);
  return { ...vol, data: dst };
}

/** Gaussian-smoothed copy of a slice, σ in pixels; `out` (may be slice.data) receives the result. */
export function gaussianFilter2d(slice: Slice2D, sigma: number, out?: Float32Array): Slice2D {
  const dst = out ?? new Float32Array(slice.height * slice.width);
  if (dst.length !== slice.data.length) throw new CryosamError(`output holds ${dst.length} pixels, slice has ${slice.data.length}`);
  gaussianSeparable(slice.data, [slice.height, slice.width], [sigma, sigma], dst);
  return { data: dst, height: slice.height, width: slice.width };
}
