/** Sampling a volume between voxel centres. */
import type { Volume } from './volume.js';

/** Trilinear interpolation at (z, y, x) in voxels, clamped at the volume's faces. */
export function sampleTrilinear(volume: Volume, z: number, y: number, x: number): number {
  const [nz, ny, nx] = volume.shape;
  const d = volume.data;
  z = Math.min(nz - 1, Math.max(0, z));
  y = Math.min(ny - 1, Math.max(0, y));
  x = Math.min(nx - 1, Math.max(0, x));
  const z0 = Math.min(nz - 2, Math.floor(z)), y0 = Math.min(ny - 2, Math.floor(y)), x0 = Math.min(nx - 2, Math.floor(x));
  // A volume one voxel thin along an axis has nothing to interpolate: nearest voxel.
  if (z0 < 0 || y0 < 0 || x0 < 0) return d[(Math.round(z) * ny + Math.round(y)) * nx + Math.round(x)];
  return trilinearCell(d, (z0 * ny + y0) * nx + x0, nx, ny * nx, z - z0, y - y0, x - x0);
}

/**
 * Trilinear interpolation inside one grid cell: `i` is the index of its lowest corner, `sy` and
 * `sz` the strides of a row and a plane, (fz, fy, fx) the fractional position in [0, 1].
 */
export function trilinearCell(d: ArrayLike<number>, i: number, sy: number, sz: number, fz: number, fy: number, fx: number): number {
  const c00 = d[i] + fx * (d[i + 1] - d[i]);
  const c01 = d[i + sy] + fx * (d[i + sy + 1] - d[i + sy]);
  const c10 = d[i + sz] + fx * (d[i + sz + 1] - d[i + sz]);
  const c11 = d[i + sz + sy] + fx * (d[i + sz + sy + 1] - d[i + sz + sy]);
  const c0 = c00 + fy * (c01 - c00);
  const c1 = c10 + fy * (c11 - c10);
  return c0 + fz * (c1 - c0);
}
