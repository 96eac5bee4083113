/** Small 3-vector helpers for the simulator's filaments and membranes: (x, y, z) tuples in voxels. */
import type { Rng } from './rng.js';

export type Vec3 = [x: number, y: number, z: number];

export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

export const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

export function normalize(a: Vec3): Vec3 {
  const n = Math.hypot(a[0], a[1], a[2]);
  return n > 0 ? [a[0] / n, a[1] / n, a[2] / n] : [0, 0, 1];
}

/** A uniformly distributed direction. */
export function randomUnit(rng: Rng): Vec3 {
  const z = rng.range(-1, 1);
  const phi = rng.range(0, 2 * Math.PI);
  const r = Math.sqrt(Math.max(0, 1 - z * z));
  return [r * Math.cos(phi), r * Math.sin(phi), z];
}

/** A unit vector perpendicular to `a`, at a random angle about it. */
export function randomPerpendicular(a: Vec3, rng: Rng): Vec3 {
  const helper: Vec3 = Math.abs(a[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
  const u = normalize(cross(a, helper));
  const v = cross(a, u);
  const phi = rng.range(0, 2 * Math.PI);
  const c = Math.cos(phi), s = Math.sin(phi);
  return normalize([c * u[0] + s * v[0], c * u[1] + s * v[1], c * u[2] + s * v[2]]);
}

/** A uniform random point of the tomogram, `margin` voxels (at most half the size) from every face. */
export function randomPoint(shape: readonly [number, number, number], rng: Rng, margin = 0): Vec3 {
  const [nz, ny, nx] = shape;
  const pick = (n: number) => {
    const m = Math.min(margin, (n - 1) / 2);
    return rng.range(m, n - 1 - m);
  };
  const x = pick(nx);
  const y = pick(ny);
  const z = pick(nz);
  return [x, y, z];
}
