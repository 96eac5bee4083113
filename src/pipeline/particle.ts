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

/** Random placements of a mask at which the noise of its contrast is measured (deterministic). */
const NULL_PLACEMENTS = 256;
/** The background a mask's contrast is taken against: voxels up to this far outside it. */
const SHELL_VOXELS = 2;

/**
 * How far a mask's contrast stands out of the tomogram's noise at the mask's size and shape: its
 * mean density minus that of a 2-voxel shell around it, over the standard deviation of the same
 * difference with the same mask placed at random across the tomogram (Infinity when the mask is too
 * large to be placed elsewhere). Signed: negative for a dark region. A segmenter always returns some
 * region, and in empty ice that region is a fluctuation of the noise; a particle's mask stands out
 * further than a random placement of it does (measured in docs/defaults.md).
 */
export function maskSignificance(tomogram: Volume, m: ParticleMask): number {
  const [nz, ny, nx] = tomogram.shape;
  const d = tomogram.data;
  const { z0, y0, x0 } = m.bbox;
  const box = shellBox(m);
  const { bz, by, bx } = box;
  if (bz > nz || by > ny || bx > nx) return Infinity;
  // In one pass over the box: the mask's own contrast (leaving out shell voxels beyond the
  // tomogram's edge) and the offsets from the box's corner, in C order, for the random placements.
  const sums = [0, 0, 0], counts = [0, 0, 0];
  const inside: number[] = [], shell: number[] = [];
  for (let z = 0, k = 0; z < bz; z++) {
    for (let y = 0; y < by; y++) {
      for (let x = 0; x < bx; x++, k++) {
        const label = box.label[k];
        if (label === 0) continue;
        (label === 1 ? inside : shell).push((z * ny + y) * nx + x);
        const tz = z0 - SHELL_VOXELS + z, ty = y0 - SHELL_VOXELS + y, tx = x0 - SHELL_VOXELS + x;
        if (tz < 0 || ty < 0 || tx < 0 || tz >= nz || ty >= ny || tx >= nx) continue;
        sums[label] += d[(tz * ny + ty) * nx + tx];
        counts[label]++;
      }
    }
  }
  if (counts[1] === 0 || counts[2] === 0) return 0;
  const observed = sums[1] / counts[1] - sums[2] / counts[2];
  let seed = 0x9e3779b9;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return Math.floor((seed / 2 ** 32) * n);
  };
  let sum = 0, sum2 = 0;
  for (let i = 0; i < NULL_PLACEMENTS; i++) {
    const corner = (random(nz - bz + 1) * ny + random(ny - by + 1)) * nx + random(nx - bx + 1);
    let a = 0, b = 0;
    for (const o of inside) a += d[corner + o];
    for (const o of shell) b += d[corner + o];
    const c = a / inside.length - b / shell.length;
    sum += c;
    sum2 += c * c;
  }
  const mean = sum / NULL_PLACEMENTS, sd = Math.sqrt(Math.max(0, sum2 / NULL_PLACEMENTS - mean * mean));
  return sd > 0 ? (observed - mean) / sd : Infinity;
}

/** The mask's bounding box padded by the shell, labelled 1 in the mask, 2 in the shell, 0 elsewhere. */
function shellBox(m: ParticleMask): { bz: number; by: number; bx: number; label: Uint8Array } {
  const p = SHELL_VOXELS;
  const { z0, z1, y0, y1, x0, x1 } = m.bbox;
  const h = y1 - y0, w = x1 - x0;
  const bz = z1 - z0 + 2 * p, by = h + 2 * p, bx = w + 2 * p;
  const label = new Uint8Array(bz * by * bx);
  for (let z = 0; z < z1 - z0; z++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!m.mask[(z * h + y) * w + x]) continue;
        for (let dz = -p; dz <= p; dz++) {
          for (let dy = -p; dy <= p; dy++) {
            for (let dx = -p; dx <= p; dx++) {
              if (dz * dz + dy * dy + dx * dx > p * p) continue;
              const k = ((z + p + dz) * by + y + p + dy) * bx + x + p + dx;
              if (label[k] === 0) label[k] = 2;
            }
          }
        }
      }
    }
  }
  for (let z = 0; z < z1 - z0; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (m.mask[(z * h + y) * w + x]) label[((z + p) * by + y + p) * bx + x + p] = 1;
  }
  return { bz, by, bx, label };
}
