/** Small synthetic tomograms for pipeline tests: dark spheres and rods in Gaussian noise, seeded. */
import { createVolume, type Shape3, type Volume } from '../../src/volume/volume.js';

/** mulberry32: a tiny deterministic PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Particle {
  kind: 'sphere' | 'rod';
  x: number;
  y: number;
  z: number;
}

export interface Synthetic {
  volume: Volume;
  particles: Particle[];
  /** Ground-truth instance labels (index into particles + 1). */
  labels: Int32Array;
}

/**
 * Particles darker than the background by `contrast` noise σ. Spheres have `radius`; rods are
 * thin cylinders along x (radius / 2, length 4 × radius): the same extent, another shape.
 */
export function synthetic(shape: Shape3, particles: Particle[], opts: { radius: number; contrast: number; seed: number }): Synthetic {
  const vol = createVolume(shape, 10);
  const [nz, ny, nx] = shape;
  const labels = new Int32Array(vol.data.length);
  const r = opts.radius;
  particles.forEach((p, k) => {
    const rad = p.kind === 'rod' ? r / 2 : r;
    const half = p.kind === 'rod' ? 2 * r : r;
    for (let z = Math.max(0, Math.floor(p.z - r)); z <= Math.min(nz - 1, Math.ceil(p.z + r)); z++)
      for (let y = Math.max(0, Math.floor(p.y - r)); y <= Math.min(ny - 1, Math.ceil(p.y + r)); y++)
        for (let x = Math.max(0, Math.floor(p.x - half)); x <= Math.min(nx - 1, Math.ceil(p.x + half)); x++) {
          const dx = p.kind === 'rod' ? Math.max(0, Math.abs(x - p.x) - (half - rad)) : x - p.x;
          if (dx * dx + (y - p.y) ** 2 + (z - p.z) ** 2 <= rad * rad) {
            const i = (z * ny + y) * nx + x;
            vol.data[i] = -opts.contrast;
            labels[i] = k + 1;
          }
        }
  });
  const rand = rng(opts.seed);
  for (let i = 0; i < vol.data.length; i += 2) {
    // Box–Muller: two Gaussian samples per pair of uniforms.
    const u = Math.max(1e-12, rand()), v = rand();
    const m = Math.sqrt(-2 * Math.log(u));
    vol.data[i] += m * Math.cos(2 * Math.PI * v);
    if (i + 1 < vol.data.length) vol.data[i + 1] += m * Math.sin(2 * Math.PI * v);
  }
  return { volume: vol, particles, labels };
}

/** Positions on a jittered grid, well separated, alternating kinds when `kinds` has two entries. */
export function scatter(shape: Shape3, spacing: number, margin: number, kinds: Particle['kind'][], seed: number): Particle[] {
  const rand = rng(seed);
  const out: Particle[] = [];
  const [nz, ny, nx] = shape;
  let k = 0;
  for (let z = margin; z <= nz - margin; z += spacing)
    for (let y = margin; y <= ny - margin; y += spacing)
      for (let x = margin; x <= nx - margin; x += spacing) {
        const j = () => Math.round((rand() - 0.5) * spacing * 0.2);
        out.push({ kind: kinds[k++ % kinds.length], x: x + j(), y: y + j(), z: z + j() });
      }
  return out;
}

/** A uniformly random rotation matrix (from a random unit quaternion), acting on (z, y, x). */
export function randomRotation(rand: () => number): Float64Array {
  const u1 = rand(), a = 2 * Math.PI * rand(), b = 2 * Math.PI * rand();
  const [w, x, y, z] = [Math.sqrt(u1) * Math.cos(b), Math.sqrt(1 - u1) * Math.sin(a), Math.sqrt(1 - u1) * Math.cos(a), Math.sqrt(u1) * Math.sin(b)];
  return Float64Array.of(
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  );
}
