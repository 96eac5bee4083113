/**
 * Verification of proposals against the prompted particles, after segmentation. Feature similarity
 * finds "something like the prompt"; these checks ask whether a segmented proposal is the same kind
 * of particle: a similar volume, and a similar rotation-invariant shape signature.
 *
 * The shape signature is the spherical-harmonic spectrum of the density in concentric shells
 * around the instance centroid: for each shell radius r and degree l, the amplitude
 * ‖f_l(r)‖ = sqrt(Σ_m c_lm(r)²) of the density's projection onto the degree-l harmonics. A rotation
 * mixes the coefficients of one degree among themselves and leaves that amplitude unchanged, so the
 * signature does not depend on the particle's orientation; unlike a radial profile (degree 0 alone)
 * it sees how the density is arranged around the centre, which is what tells an 80S ribosome from
 * a mitoribosome of the same size. Each shell samples hundreds of points, so low degrees are robust
 * at SNR 0.1. Signatures are compared by Pearson correlation, which ignores a particle-wide gain.
 *
 * Measured separability (area under the ROC curve, one prompted ribosome as the reference, true
 * centres, realistic preset seeds 1–2): ribosome vs mitoribosome 0.89–0.93 with the signature,
 * 0.79–0.80 with the radial profile alone; vs TRiC and smaller proteins ≥ 0.94.
 *
 * The checks read the tomogram, not an engine's features, so they work with any engine.
 */
import { sampleTrilinear as sample } from '../volume/interpolate.js';
import type { Volume } from '../volume/volume.js';
import type { InstanceMask, VoxelPoint } from './types.js';

/** Signature extent in equivalent radii (just past the particle's edge), shells across it, and the highest degree. */
const SIGNATURE_EXTENT = 1.1;
const SIGNATURE_SHELLS = 7;
const MAX_DEGREE = 6;
/** Directions sampled on each shell (a Fibonacci sphere: near-uniform, deterministic). */
const DIRECTIONS = 400;

export interface SignatureGeometry {
  /** Shell radii in voxels. */
  radii: Float64Array;
  /** Unit directions, (z, y, x) per direction. */
  directions: Float64Array;
  /** Real spherical harmonics, row (l² + l + m) per direction, scaled by the quadrature weight 4π/N. */
  harmonics: Float64Array;
}

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

/** Shell layout and harmonic tables for particles of equivalent-sphere radius `equivalentRadius` (voxels). */
export function signatureGeometry(equivalentRadius: number): SignatureGeometry {
  const outer = Math.max(3, SIGNATURE_EXTENT * equivalentRadius);
  const radii = new Float64Array(SIGNATURE_SHELLS).map((_, k) => ((k + 1) * outer) / SIGNATURE_SHELLS);
  const directions = fibonacciSphere(DIRECTIONS);
  const rows = (MAX_DEGREE + 1) ** 2;
  const harmonics = new Float64Array(rows * DIRECTIONS);
  const weight = (4 * Math.PI) / DIRECTIONS;
  for (let i = 0; i < DIRECTIONS; i++) {
    const cosTheta = directions[3 * i];
    const phi = Math.atan2(directions[3 * i + 1], directions[3 * i + 2]);
    for (let l = 0; l <= MAX_DEGREE; l++) {
      for (let m = -l; m <= l; m++) {
        harmonics[(l * l + l + m) * DIRECTIONS + i] = weight * realHarmonic(l, m, cosTheta, phi);
      }
    }
  }
  return { radii, directions, harmonics };
}

/** Orthonormal real spherical harmonic Y_lm at polar angle θ (given as cos θ) and azimuth φ. */
function realHarmonic(l: number, m: number, cosTheta: number, phi: number): number {
  const am = Math.abs(m);
  let ratio = 1; // (l − |m|)! / (l + |m|)!
  for (let k = l - am + 1; k <= l + am; k++) ratio /= k;
  const norm = Math.sqrt(((2 * l + 1) / (4 * Math.PI)) * ratio);
  const p = associatedLegendre(l, am, cosTheta);
  if (m === 0) return norm * p;
  return Math.SQRT2 * norm * p * (m > 0 ? Math.cos(m * phi) : Math.sin(am * phi));
}

/** Associated Legendre function P_l^m(x), m ≥ 0, by the standard upward recurrence in l. */
function associatedLegendre(l: number, m: number, x: number): number {
  let pmm = 1;
  const s = Math.sqrt(Math.max(0, 1 - x * x));
  for (let i = 1; i <= m; i++) pmm *= -(2 * i - 1) * s;
  if (l === m) return pmm;
  let pm1 = x * (2 * m + 1) * pmm;
  for (let ll = m + 2; ll <= l; ll++) {
    const next = ((2 * ll - 1) * x * pm1 - (ll + m - 1) * pmm) / (ll - m);
    pmm = pm1;
    pm1 = next;
  }
  return pm1;
}

/**
 * Shape signature around `centre`: per shell, the centred shell mean (degree 0, signed, so a local
 * background offset cancels) followed by the amplitudes of degrees 1..MAX_DEGREE.
 */
export function shapeSignature(tomogram: Volume, centre: VoxelPoint, g: SignatureGeometry): Float64Array {
  const degrees = MAX_DEGREE + 1;
  const out = new Float64Array(g.radii.length * degrees);
  const values = new Float64Array(DIRECTIONS);
  for (let k = 0; k < g.radii.length; k++) {
    const r = g.radii[k];
    for (let i = 0; i < DIRECTIONS; i++) {
      values[i] = sample(tomogram, centre.z + r * g.directions[3 * i], centre.y + r * g.directions[3 * i + 1], centre.x + r * g.directions[3 * i + 2]);
    }
    for (let l = 0; l <= MAX_DEGREE; l++) {
      let energy = 0, mean = 0;
      for (let m = -l; m <= l; m++) {
        const row = (l * l + l + m) * DIRECTIONS;
        let c = 0;
        for (let i = 0; i < DIRECTIONS; i++) c += values[i] * g.harmonics[row + i];
        energy += c * c;
        mean = c;
      }
      out[k * degrees + l] = l === 0 ? mean : Math.sqrt(energy);
    }
  }
  let offset = 0;
  for (let k = 0; k < g.radii.length; k++) offset += out[k * degrees];
  offset /= g.radii.length;
  for (let k = 0; k < g.radii.length; k++) out[k * degrees] -= offset;
  return out;
}

/** Element-wise mean of several signatures. */
export function meanSignature(signatures: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(signatures[0]?.length ?? 0);
  for (const s of signatures) for (let i = 0; i < out.length; i++) out[i] += s[i] / signatures.length;
  return out;
}

/** Pearson correlation of two signatures (−1 when either is constant). */
export function signatureCorrelation(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i] / n), (mb += b[i] / n);
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : -1;
}

/** Centre-of-mass refinement passes (each moves the centre less; 5 settle within a tenth of a voxel). */
const CENTRE_PASSES = 5;

/**
 * The particle's density centre of mass near `start`: the mass is the density's excess over the
 * local background (the mean on a shell just outside the signature's extent), on the side of the
 * prompts' contrast (`polarity` −1 for dark protein, +1 for bright), within the signature's extent.
 * The same physical point on every copy of a particle, whatever its orientation, which the centroid
 * of a segmentation mask is not (the mask's edges are noisy): signatures are only comparable about
 * corresponding centres.
 */
export function densityCentre(tomogram: Volume, start: VoxelPoint, g: SignatureGeometry, polarity: number): VoxelPoint {
  const [nz, ny, nx] = tomogram.shape;
  const d = tomogram.data;
  const outer = g.radii[g.radii.length - 1];
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
export function contrastPolarity(tomogram: Volume, instances: readonly InstanceMask[]): number {
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
