/**
 * Changing the sampling of tomograms and slices, one axis at a time (each pass shrinks or grows the
 * data along one axis, so temporaries are never larger than the bigger of input and output).
 * Binning is mean pooling; rescaling uses a triangle filter stretched by the shrink factor
 * (anti-aliased like smoothing then linear interpolation, and plain (tri)linear interpolation when enlarging).
 */
import { CryosamError } from '../errors.js';
import type { Slice2D } from './slice.js';
import { lineLayout, type LineLayout } from './lines.js';
import type { Volume, VoxelSize } from './volume.js';

/** Mean of each run of `factor` samples along the line; a shorter last run is averaged over what it has. */
function poolAxis(src: Float32Array, { outer, n, inner }: LineLayout, factor: number): Float32Array {
  const m = Math.ceil(n / factor);
  const dst = new Float32Array(outer * m * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      const i0 = k * factor;
      const i1 = Math.min(n, i0 + factor);
      const row = (o * m + k) * inner;
      for (let i = i0; i < i1; i++) {
        const from = (o * n + i) * inner;
        for (let j = 0; j < inner; j++) dst[row + j] += src[from + j];
      }
      const inv = 1 / (i1 - i0);
      for (let j = 0; j < inner; j++) dst[row + j] *= inv;
    }
  }
  return dst;
}

/**
 * Resamples every line to `m` samples where output k sits at input position (k + 0.5) / scale − 0.5,
 * weighting inputs by a triangle of half-width max(1, 1/scale); weights are renormalised at borders.
 */
function resampleAxis(src: Float32Array, { outer, n, inner }: LineLayout, m: number, scale: number): Float32Array {
  const halfWidth = Math.max(1, 1 / scale);
  const taps = Math.ceil(2 * halfWidth) + 1;
  const first = new Int32Array(m);
  const weights = new Float32Array(m * taps);
  for (let k = 0; k < m; k++) {
    const u = (k + 0.5) / scale - 0.5;
    const i0 = Math.max(0, Math.ceil(u - halfWidth));
    first[k] = i0;
    let sum = 0;
    for (let t = 0; t < taps && i0 + t < n; t++) {
      const w = Math.max(0, 1 - Math.abs(i0 + t - u) / halfWidth);
      weights[k * taps + t] = w;
      sum += w;
    }
    // Positions beyond the last sample (possible when enlarging) take the border value.
    if (sum === 0) {
      first[k] = Math.min(n - 1, Math.max(0, Math.round(u)));
      weights[k * taps] = 1;
      sum = 1;
    }
    for (let t = 0; t < taps; t++) weights[k * taps + t] /= sum;
  }
  const dst = new Float32Array(outer * m * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      const row = (o * m + k) * inner;
      for (let t = 0; t < taps; t++) {
        const w = weights[k * taps + t];
        if (w === 0) continue;
        const from = (o * n + first[k] + t) * inner;
        for (let j = 0; j < inner; j++) dst[row + j] += w * src[from + j];
      }
    }
  }
  return dst;
}

function checkFactor(factor: number): void {
  if (!Number.isInteger(factor) || factor < 1) throw new CryosamError(`binning factor must be a positive integer (got ${factor})`);
}

/**
 * Bins a tomogram by mean pooling of factor³ blocks; the shape becomes ceil(n / factor) (a partial
 * last block is averaged over its voxels), the voxel size grows by `factor`, and the origin moves to
 * the centre of the first block.
 */
export function binVolume(vol: Volume, factor: number): Volume {
  checkFactor(factor);
  let dims = [...vol.shape];
  let data = vol.data;
  for (let d = 2; d >= 0 && factor > 1; d--) {
    data = poolAxis(data, lineLayout(dims, d), factor);
    dims[d] = Math.ceil(dims[d] / factor);
  }
  if (factor === 1) data = data.slice();
  const shift = (factor - 1) / 2;
  const vs = vol.voxelSize;
  return {
    data,
    shape: [dims[0], dims[1], dims[2]],
    voxelSize: { x: vs.x * factor, y: vs.y * factor, z: vs.z * factor },
    ...(vol.origin && {
      origin: { x: vol.origin.x + shift * vs.x, y: vol.origin.y + shift * vs.y, z: vol.origin.z + shift * vs.z },
    }),
  };
}

/**
 * Resamples a tomogram to the target voxel size (Å, one value or per axis), anti-aliased when
 * shrinking. Each axis gets round(n · size / target) voxels at exactly the target spacing; voxel
 * centres stay aligned with the input's outer voxel edges, so the origin moves by half a voxel change.
 */
export function rescaleVolume(vol: Volume, targetVoxelSizeA: number | VoxelSize): Volume {
  const target = typeof targetVoxelSizeA === 'number' ? { x: targetVoxelSizeA, y: targetVoxelSizeA, z: targetVoxelSizeA } : targetVoxelSizeA;
  const names = ['z', 'y', 'x'] as const;
  for (const a of names) {
    if (!(target[a] > 0) || !(vol.voxelSize[a] > 0)) {
      throw new CryosamError(`voxel sizes must be > 0 Å (input ${vol.voxelSize[a]}, target ${target[a]} along ${a})`);
    }
  }
  const dims = [...vol.shape];
  let data = vol.data;
  for (let d = 2; d >= 0; d--) {
    const a = names[d];
    const scale = vol.voxelSize[a] / target[a];
    const m = Math.max(1, Math.round(dims[d] * scale));
    data = resampleAxis(data, lineLayout(dims, d), m, scale);
    dims[d] = m;
  }
  const vs = vol.voxelSize;
  const shift = (a: (typeof names)[number]): number => (target[a] - vs[a]) / 2;
  return {
    data,
    shape: [dims[0], dims[1], dims[2]],
    voxelSize: { ...target },
    ...(vol.origin && { origin: { x: vol.origin.x + shift('x'), y: vol.origin.y + shift('y'), z: vol.origin.z + shift('z') } }),
  };
}

/** Resizes a slice to height × width (bilinear when enlarging, area-weighted triangle filter when shrinking). */
export function resizeSlice(slice: Slice2D, height: number, width: number): Slice2D {
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
    throw new CryosamError(`slice size must be positive integers (got ${height}×${width})`);
  }
  const rows = resampleAxis(slice.data, lineLayout([slice.height, slice.width], 0), height, height / slice.height);
  const data = resampleAxis(rows, lineLayout([height, slice.width], 1), width, width / slice.width);
  return { data, height, width };
}

/** Mean-pools factor × factor pixel blocks; the size becomes ceil(n / factor). */
export function downsampleSlice(slice: Slice2D, factor: number): Slice2D {
  checkFactor(factor);
  if (factor === 1) return { data: slice.data.slice(), height: slice.height, width: slice.width };
  const height = Math.ceil(slice.height / factor);
  const width = Math.ceil(slice.width / factor);
  const rows = poolAxis(slice.data, lineLayout([slice.height, slice.width], 0), factor);
  return { data: poolAxis(rows, lineLayout([height, slice.width], 1), factor), height, width };
}
