/**
 * Particles by their density, not their masks: where a particle's density centre is, which contrast
 * the prompted particles have, and which masks repeat a particle already found. These read the
 * tomogram, not an engine's features, so they work with any engine.
 */
import { sampleTrilinear as sample } from '../volume/interpolate.js';
import type { Volume } from '../volume/volume.js';
import type { ParticleMask, VoxelPoint } from './types.js';

/** Directions sampled on the background shell (a Fibonacci sphere: near-uniform, deterministic). */
const DIRECTIONS = 400;
/** The density centre weighs density within this many equivalent radii (just past the particle's edge), at least 3 voxels. */
const EXTENT_RADII = 1.1;
const MIN_EXTENT = 3;

/** n near-uniform, deterministic unit directions (z, y, x) on the sphere: the Fibonacci lattice. */
export function fibonacciSphere(n: number): Float64Array {
  const directions = new Float64Array(3 * n);
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < n; i++) {
    const z = 1 - (2 * i + 1) / n;
    const rho = Math.sqrt(1 - z * z);
    directions[3 * i] = z;
    directions[3 * i + 1] = rho * Math.sin(i * golden);
    directions[3 * i + 2] = rho * Math.cos(i * golden);
  }
  return directions;
}

/** Where the density centre of a particle of this equivalent-sphere radius (voxels) is looked for. */
export interface CentreGeometry {
  /** Radius in voxels within which density counts. */
  extent: number;
  /** Unit directions (z, y, x) of the background shell. */
  directions: Float64Array;
}

export function centreGeometry(equivalentRadius: number): CentreGeometry {
  return { extent: Math.max(MIN_EXTENT, EXTENT_RADII * equivalentRadius), directions: fibonacciSphere(DIRECTIONS) };
}

/** Centre-of-mass refinement passes (each moves the centre less; 5 settle within a tenth of a voxel). */
const CENTRE_PASSES = 5;

/**
 * The particle's density centre of mass near `start`: the mass is the density's excess over the
 * local background (the mean on a shell 2 voxels outside the extent), on the side of the prompts'
 * contrast (`polarity` −1 for dark protein, +1 for bright), within the extent. The same physical
 * point on every copy of a particle, whatever its orientation, which the centroid of a segmentation
 * mask is not (the mask's edges are noisy): the template cut compares particles about it, and picks
 * are written there.
 */
export function densityCentre(tomogram: Volume, start: VoxelPoint, g: CentreGeometry, polarity: number): VoxelPoint {
  const [nz, ny, nx] = tomogram.shape;
  const d = tomogram.data;
  const outer = g.extent;
  const R = Math.ceil(outer);
  let c = { ...start };
  for (let pass = 0; pass < CENTRE_PASSES; pass++) {
    let background = 0;
    for (let i = 0; i < DIRECTIONS; i++) {
      background += sample(tomogram, c.z + (outer + 2) * g.directions[3 * i], c.y + (outer + 2) * g.directions[3 * i + 1], c.x + (outer + 2) * g.directions[3 * i + 2]);
    }
    background /= DIRECTIONS;
    let mass = 0, mz = 0, my = 0, mx = 0;
    const cz = Math.round(c.z), cy = Math.round(c.y), cx = Math.round(c.x);
    for (let z = Math.max(0, cz - R); z <= Math.min(nz - 1, cz + R); z++) {
      for (let y = Math.max(0, cy - R); y <= Math.min(ny - 1, cy + R); y++) {
        const row = (z * ny + y) * nx;
        const dzy2 = (z - c.z) ** 2 + (y - c.y) ** 2;
        for (let x = Math.max(0, cx - R); x <= Math.min(nx - 1, cx + R); x++) {
          if (dzy2 + (x - c.x) ** 2 > outer * outer) continue;
          const w = polarity * (d[row + x] - background);
          if (w <= 0) continue;
          mass += w;
          mz += w * z;
          my += w * y;
          mx += w * x;
        }
      }
    }
    if (!(mass > 0)) break;
    c = { z: mz / mass, y: my / mass, x: mx / mass };
  }
  return c;
}

/**
 * −1 when the prompted particles are darker than their surroundings (protein dark, as reconstructed
 * cryo-ET usually is), +1 when brighter: compares the mean density inside the masks with the mean
 * over the rest of their bounding boxes.
 */
export function contrastPolarity(tomogram: Volume, instances: readonly ParticleMask[]): -1 | 1 {
  const [, ny, nx] = tomogram.shape;
  const d = tomogram.data;
  let inside = 0, nInside = 0, outside = 0, nOutside = 0;
  for (const inst of instances) {
    const { z0, z1, y0, y1, x0, x1 } = inst.bbox;
    let k = 0;
    for (let z = z0; z < z1; z++) {
      for (let y = y0; y < y1; y++) {
        const row = (z * ny + y) * nx;
        for (let x = x0; x < x1; x++, k++) {
          if (inst.mask[k]) (inside += d[row + x]), nInside++;
          else (outside += d[row + x]), nOutside++;
        }
      }
    }
  }
  if (nInside === 0 || nOutside === 0) return -1;
  return inside / nInside <= outside / nOutside ? -1 : 1;
}

/**
 * The items that repeat a particle already taken: walking `ordered` (best first), an item whose
 * centre lies within `radius` of a taken centre (`taken` starts with, e.g., the prompts') is a
 * repeat, else its centre is taken. Two masks of one particle (each part passing for a particle)
 * have density centres within an equivalent radius, where two particles of that size cannot be.
 */
export function repeatedParticles<T>(ordered: readonly T[], centreOf: (item: T) => VoxelPoint, radius: number, taken: VoxelPoint[] = []): Set<T> {
  const kept = [...taken];
  const repeats = new Set<T>();
  for (const item of ordered) {
    const c = centreOf(item);
    if (kept.some((t) => Math.hypot(t.x - c.x, t.y - c.y, t.z - c.z) < radius)) repeats.add(item);
    else kept.push(c);
  }
  return repeats;
}
