/** Synthetic noisy slices with known particles, for the classical engine's tests. */
import type { Slice2D } from '../../src/volume/slice.js';

/** Deterministic standard-normal generator (mulberry32 + Box–Muller). */
export function gaussianNoise(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

export interface Shape {
  row: number;
  col: number;
  /** Outer radius in pixels. */
  radius: number;
  /** Inner radius of a ring (0 for a disc). */
  inner?: number;
  /** Value added inside (negative = dark, as protein in cryo-ET). */
  amplitude: number;
}

/** Truth mask of one shape. */
export function shapeMask(height: number, width: number, s: Shape): Uint8Array {
  const m = new Uint8Array(height * width);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const d2 = (r - s.row) ** 2 + (c - s.col) ** 2;
      if (d2 <= s.radius ** 2 && d2 >= (s.inner ?? 0) ** 2) m[r * width + c] = 1;
    }
  }
  return m;
}

/** A slice of unit Gaussian noise with the shapes painted in. */
export function noisySlice(height: number, width: number, shapes: Shape[], seed: number): Slice2D {
  const noise = gaussianNoise(seed);
  const data = Float32Array.from({ length: height * width }, noise);
  for (const s of shapes) {
    const m = shapeMask(height, width, s);
    for (let i = 0; i < m.length; i++) if (m[i]) data[i] += s.amplitude;
  }
  return { data, height, width };
}

export function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i] & b[i];
    union += a[i] | b[i];
  }
  return union === 0 ? 0 : inter / union;
}
