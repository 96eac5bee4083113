/**
 * Rotations of 3D particles as 3×3 matrices acting on (z, y, x) column vectors, row-major: the
 * exhaustive search grid over SO(3) and the small turns of its local refinement.
 */
import { fibonacciSphere } from './particle.js';

export type Matrix3 = Float64Array;

export const IDENTITY: Matrix3 = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);

export function multiply(a: Matrix3, b: Matrix3): Matrix3 {
  const out = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
  return out;
}

export function transpose(r: Matrix3): Matrix3 {
  return Float64Array.of(r[0], r[3], r[6], r[1], r[4], r[7], r[2], r[5], r[8]);
}

/** Rotation by `angle` (radians) about coordinate axis `axis` (0 = z, 1 = y, 2 = x). */
export function axisRotation(axis: number, angle: number): Matrix3 {
  const c = Math.cos(angle), s = Math.sin(angle);
  const m = IDENTITY.slice();
  const [p, q] = [(axis + 1) % 3, (axis + 2) % 3];
  m[p * 3 + p] = c;
  m[p * 3 + q] = -s;
  m[q * 3 + p] = s;
  m[q * 3 + q] = c;
  return m;
}

/**
 * Rotations covering SO(3) at about `stepDeg`: the first axis is sent to each of ~4π/step²
 * near-uniform directions (a Fibonacci lattice), combined with in-plane turns of `stepDeg` about it.
 */
export function rotationGrid(stepDeg: number): Matrix3[] {
  const step = (stepDeg * Math.PI) / 180;
  const nDirections = Math.max(1, Math.round((4 * Math.PI) / (step * step)));
  const nTurns = Math.max(1, Math.round((2 * Math.PI) / step));
  const dirs = fibonacciSphere(nDirections);
  const out: Matrix3[] = [];
  for (let i = 0; i < nDirections; i++) {
    const d = [dirs[3 * i], dirs[3 * i + 1], dirs[3 * i + 2]];
    // u ⟂ d from the coordinate axis least parallel to d, v = d × u: columns (d, u, v) are right-handed.
    const a = Math.abs(d[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
    const dot = a[0] * d[0] + a[1] * d[1] + a[2] * d[2];
    let u = [a[0] - dot * d[0], a[1] - dot * d[1], a[2] - dot * d[2]];
    const nu = Math.hypot(u[0], u[1], u[2]);
    u = u.map((x) => x / nu);
    const v = [d[1] * u[2] - d[2] * u[1], d[2] * u[0] - d[0] * u[2], d[0] * u[1] - d[1] * u[0]];
    const frame = Float64Array.of(d[0], u[0], v[0], d[1], u[1], v[1], d[2], u[2], v[2]);
    for (let k = 0; k < nTurns; k++) out.push(multiply(frame, axisRotation(0, (2 * Math.PI * k) / nTurns)));
  }
  return out;
}

/** The 6 turns of ±angle about each axis, for local refinement (hill climbing). */
export function neighbourTurns(angle: number): Matrix3[] {
  return [0, 1, 2].flatMap((axis) => [axisRotation(axis, angle), axisRotation(axis, -angle)]);
}

/** Geodesic angle between two rotations, in degrees. */
export function angleBetweenDeg(a: Matrix3, b: Matrix3): number {
  let trace = 0;
  for (let i = 0; i < 9; i++) trace += a[i] * b[i];
  return (Math.acos(Math.max(-1, Math.min(1, (trace - 1) / 2))) * 180) / Math.PI;
}
