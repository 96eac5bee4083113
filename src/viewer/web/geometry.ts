/**
 * How each of the three views maps voxels to its image: the XY view (axis z) shows columns x and
 * rows y, XZ (axis y) columns x and rows z, YZ (axis x) columns y and rows z, as the server's slices.
 */
import type { ViewAxis, VoxelXYZ } from '../protocol.js';

export interface PlanePoint {
  col: number;
  row: number;
  /** Position along the view's axis (the slice index for voxels on the slice). */
  depth: number;
}

export function toPlane(axis: ViewAxis, p: VoxelXYZ): PlanePoint {
  if (axis === 'z') return { col: p.x, row: p.y, depth: p.z };
  if (axis === 'y') return { col: p.x, row: p.z, depth: p.y };
  return { col: p.y, row: p.z, depth: p.x };
}

export function fromPlane(axis: ViewAxis, q: PlanePoint): VoxelXYZ {
  if (axis === 'z') return { x: q.col, y: q.row, z: q.depth };
  if (axis === 'y') return { x: q.col, y: q.depth, z: q.row };
  return { x: q.depth, y: q.col, z: q.row };
}

/** [height, width] of a view's slice for a tomogram of shape [nz, ny, nx]. */
export function planeSize(axis: ViewAxis, shape: readonly [number, number, number]): { height: number; width: number; depth: number } {
  const [nz, ny, nx] = shape;
  if (axis === 'z') return { height: ny, width: nx, depth: nz };
  if (axis === 'y') return { height: nz, width: nx, depth: ny };
  return { height: nz, width: ny, depth: nx };
}

/** Radius in voxels of the sphere with `voxels` voxels (how big a pick's circle is). */
export function equivalentRadius(voxels: number): number {
  return Math.cbrt((3 * voxels) / (4 * Math.PI));
}

/** Radius of a sphere's cross-section at distance `d` from its centre; 0 when the slice misses it. */
export function sectionRadius(radius: number, d: number): number {
  return Math.abs(d) < radius ? Math.sqrt(radius * radius - d * d) : 0;
}
