/**
 * Orthogonal slices of a tomogram and the mapping between slice pixels and voxels.
 * Axis z gives an xy-section (rows y, cols x); axis y gives rows z, cols x; axis x gives rows z, cols y.
 */
import { CryosamError } from '../errors.js';
import type { Axis, Shape3, Volume, VoxelArray } from './volume.js';

/** A 2D image in row-major order (index = row * width + col), e.g. one tomogram slice. */
export interface Slice2D {
  data: Float32Array;
  height: number;
  width: number;
}

export interface VoxelPosition {
  x: number;
  y: number;
  z: number;
}

export interface SlicePosition {
  /** Slice index along the slicing axis. */
  index: number;
  row: number;
  col: number;
}

/** Number of slices along `axis`. */
export function sliceCount(shape: Shape3, axis: Axis): number {
  return axis === 'z' ? shape[0] : axis === 'y' ? shape[1] : shape[2];
}

/** [height, width] of a slice perpendicular to `axis`. */
export function sliceShape(shape: Shape3, axis: Axis): [height: number, width: number] {
  const [nz, ny, nx] = shape;
  return axis === 'z' ? [ny, nx] : axis === 'y' ? [nz, nx] : [nz, ny];
}

/**
 * Voxel-array strides of one slice: index = base + index*sliceStride + row*rowStride + col*colStride.
 * Shared by extraction and insertion so the two can never disagree.
 */
function sliceStrides(shape: Shape3, axis: Axis): { slice: number; row: number; col: number } {
  const [, ny, nx] = shape;
  const plane = ny * nx;
  if (axis === 'z') return { slice: plane, row: nx, col: 1 };
  if (axis === 'y') return { slice: nx, row: plane, col: 1 };
  return { slice: 1, row: plane, col: nx };
}

function checkIndex(shape: Shape3, axis: Axis, index: number): void {
  const n = sliceCount(shape, axis);
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new CryosamError(`slice index ${index} along ${axis} is outside 0..${n - 1}`);
  }
}

/** Copies slice `index` perpendicular to `axis` into a Float32Array (reused when `out` is given). */
export function extractSlice(vol: Volume<VoxelArray>, axis: Axis, index: number, out?: Float32Array): Slice2D {
  checkIndex(vol.shape, axis, index);
  const [height, width] = sliceShape(vol.shape, axis);
  const data = out ?? new Float32Array(height * width);
  if (data.length !== height * width) {
    throw new CryosamError(`slice buffer holds ${data.length} values, slice needs ${height * width}`);
  }
  const s = sliceStrides(vol.shape, axis);
  const src = vol.data;
  for (let r = 0, k = 0; r < height; r++) {
    let i = index * s.slice + r * s.row;
    for (let c = 0; c < width; c++, k++, i += s.col) data[k] = src[i];
  }
  return { data, height, width };
}

/** Writes a slice (e.g. a 2D mask) back into the volume at `index` along `axis`. */
export function insertSlice<T extends VoxelArray>(
  vol: Volume<T>,
  axis: Axis,
  index: number,
  slice: { data: ArrayLike<number>; height: number; width: number },
): void {
  checkIndex(vol.shape, axis, index);
  const [height, width] = sliceShape(vol.shape, axis);
  if (slice.height !== height || slice.width !== width) {
    throw new CryosamError(`slice is ${slice.height}×${slice.width}, volume slices along ${axis} are ${height}×${width}`);
  }
  const s = sliceStrides(vol.shape, axis);
  const dst = vol.data;
  for (let r = 0, k = 0; r < height; r++) {
    let i = index * s.slice + r * s.row;
    for (let c = 0; c < width; c++, k++, i += s.col) dst[i] = slice.data[k];
  }
}

/** Voxel of slice pixel (row, col) in slice `index` along `axis` (fractional positions pass through). */
export function sliceToVoxel(axis: Axis, index: number, row: number, col: number): VoxelPosition {
  if (axis === 'z') return { x: col, y: row, z: index };
  if (axis === 'y') return { x: col, y: index, z: row };
  return { x: index, y: col, z: row };
}

/** Inverse of sliceToVoxel. */
export function voxelToSlice(axis: Axis, p: VoxelPosition): SlicePosition {
  if (axis === 'z') return { index: p.z, row: p.y, col: p.x };
  if (axis === 'y') return { index: p.y, row: p.z, col: p.x };
  return { index: p.x, row: p.z, col: p.y };
}
