/**
 * Planes through a volume at any orientation: the cross-section of a filament perpendicular to its
 * axis, or the profile of a membrane along its normal. Vectors are in voxels, (x, y, z) as in
 * VoxelPoint, so a filament's axis and its mask share one frame.
 */
import { trilinearCell } from './interpolate.js';
import type { Volume } from './volume.js';

export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

export const add = (a: Vec3, b: Vec3, s = 1): Vec3 => ({ x: a.x + s * b.x, y: a.y + s * b.y, z: a.z + s * b.z });
export const sub = (a: Vec3, b: Vec3): Vec3 => ({ x: a.x - b.x, y: a.y - b.y, z: a.z - b.z });
export const dot = (a: Vec3, b: Vec3): number => a.x * b.x + a.y * b.y + a.z * b.z;
export const norm = (a: Vec3): number => Math.hypot(a.x, a.y, a.z);
export const cross = (a: Vec3, b: Vec3): Vec3 => ({ x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x });

export function unit(a: Vec3): Vec3 {
  const n = norm(a);
  return n > 0 ? { x: a.x / n, y: a.y / n, z: a.z / n } : { x: 0, y: 0, z: 1 };
}

/** The smallest distance from p to a polyline (its segments, ends included). */
export function distanceToPolyline(p: Vec3, line: readonly Vec3[]): number {
  let best = Infinity;
  for (let k = 0; k < line.length; k++) {
    const a = line[k], b = line[Math.min(line.length - 1, k + 1)];
    const ab = sub(b, a), ap = sub(p, a);
    const len2 = dot(ab, ab);
    const t = len2 > 0 ? Math.min(1, Math.max(0, dot(ap, ab) / len2)) : 0;
    best = Math.min(best, norm(add(ap, ab, -t)));
  }
  return best;
}

/** Two unit vectors perpendicular to `n` and to each other (u, v, n right-handed). */
export function perpendicularBasis(n: Vec3): [Vec3, Vec3] {
  const a = Math.abs(n.x) < 0.9 ? { x: 1, y: 0, z: 0 } : { x: 0, y: 1, z: 0 };
  const u = unit(cross(n, a));
  return [u, cross(n, u)];
}

/**
 * Trilinear value at a point, or NaN outside the volume's voxel centres: a cross-section that
 * leaves the tomogram must not mistake the clamped edge for density.
 */
export function sampleInside(volume: Volume, p: Vec3): number {
  const [nz, ny, nx] = volume.shape;
  if (!(p.x >= 0 && p.y >= 0 && p.z >= 0 && p.x <= nx - 1 && p.y <= ny - 1 && p.z <= nz - 1)) return NaN;
  const x0 = Math.min(nx - 2, Math.floor(p.x)), y0 = Math.min(ny - 2, Math.floor(p.y)), z0 = Math.min(nz - 2, Math.floor(p.z));
  if (x0 < 0 || y0 < 0 || z0 < 0) return volume.data[(Math.round(p.z) * ny + Math.round(p.y)) * nx + Math.round(p.x)];
  return trilinearCell(volume.data, (z0 * ny + y0) * nx + x0, nx, ny * nx, p.z - z0, p.y - y0, p.x - x0);
}

/** A square image of a plane through a volume, averaged over a slab along the plane's normal. */
export interface PlaneImage {
  /** (2·radius + 1)² values, row-major; NaN where the plane leaves the volume. */
  data: Float32Array;
  /** Pixels from the centre to the image's edge. */
  radius: number;
  /** Image pixel (row i, column j) lies at centre + (j − radius)·u + (i − radius)·v. */
  u: Vec3;
  v: Vec3;
}

/**
 * The plane through `centre` perpendicular to `normal`, 1-voxel pixels out to `radius`, each pixel
 * the mean of 2·halfSlab + 1 samples one voxel apart along the normal: averaging along a filament's
 * axis keeps its cross-section and lowers the noise.
 */
export function samplePlane(volume: Volume, centre: Vec3, normal: Vec3, radius: number, halfSlab: number, basis = perpendicularBasis(normal)): PlaneImage {
  const [u, v] = basis;
  const size = 2 * radius + 1;
  const data = new Float32Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const p = add(add(centre, u, j - radius), v, i - radius);
      let sum = 0, n = 0;
      for (let t = -halfSlab; t <= halfSlab; t++) {
        const value = sampleInside(volume, add(p, normal, t));
        if (value === value) {
          sum += value;
          n++;
        }
      }
      // A pixel needs most of its slab inside, or it is outside.
      data[i * size + j] = n * 2 > 2 * halfSlab + 1 ? sum / n : NaN;
    }
  }
  return { data, radius, u, v };
}
