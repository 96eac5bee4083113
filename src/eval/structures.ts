/**
 * Scores for filament and membrane segmentations. Masks are full-volume Uint8Arrays (1 = inside,
 * same indexing as the tomogram) or the pipeline's ParticleMask (a bbox and its local mask). On
 * simulations the truth is the simulator's structure volumes; on a real tomogram holding one tube
 * (no annotations) the tube is found in the data (tubeFromDensity) and a mask is judged by the
 * tube's geometry (scoreTubeMask).
 */
import { CryosamError } from '../errors.js';
import { instancesToSemantic } from '../pipeline/labels.js';
import type { ParticleMask, VoxelPoint } from '../pipeline/types.js';
import { gaussianFilter3d } from '../volume/gaussian.js';
import { voxelCount, type Shape3, type Volume } from '../volume/volume.js';
import { polylineTangents, type SimulatedFilament } from './simulate/filaments.js';
import { MEMBRANE_LABEL } from './simulate/membranes.js';
import type { StructureVolumes } from './simulate/scene.js';

/** A predicted mask: a full-volume Uint8Array (1 = inside) or a ParticleMask (bbox + local mask). */
export type MaskInput = Uint8Array | ParticleMask;

/**
 * A cross-section counts as covered when at least this fraction of its truth (or wall band)
 * voxels are in the mask: a mask that only grazes the tube (one slice through it) covers none.
 */
export const CROSS_SECTION_COVERED = 0.3;

/** Distance (voxels) within which a mask voxel still counts as on the membrane for precision. */
export const MEMBRANE_TOLERANCE = 2;

/** A full-volume mask (1 = inside) from either form; a full-volume input is returned as is. */
export function fullMask(mask: MaskInput, shape: Shape3): Uint8Array {
  const n = voxelCount(shape);
  if (mask instanceof Uint8Array) {
    if (mask.length !== n) throw new CryosamError(`mask holds ${mask.length} voxels, the volume ${n}`);
    return mask;
  }
  return instancesToSemantic(shape, [mask]).data;
}

export interface FilamentMaskScore {
  /**
   * Fraction of the filament's axis points whose cross-section (the disc of radius outerRadius
   * perpendicular to the axis, one voxel thick) has ≥ 30% of its truth voxels in the mask; points
   * whose cross-section holds no truth voxel are left out.
   */
  lengthCovered: number;
  /** Fraction of the filament's truth voxels in the mask. */
  wallCoverage: number;
  /** Fraction of mask voxels within outerRadius + 1 voxel of the axis (1 for an empty mask). */
  inTube: number;
  truthVoxels: number;
  maskVoxels: number;
}

/** Scores a mask against one simulated filament (its truth voxels are those with its id in `truth.instances`). */
export function scoreFilamentMask(mask: MaskInput, filament: SimulatedFilament, truth: StructureVolumes): FilamentMaskScore {
  const shape = truth.instances.shape;
  const m = fullMask(mask, shape);
  const inst = truth.instances.data;
  const id = filament.id;
  let truthVoxels = 0, hits = 0, maskVoxels = 0;
  for (let i = 0; i < inst.length; i++) {
    if (m[i]) maskVoxels++;
    if (inst[i] === id) {
      truthVoxels++;
      if (m[i]) hits++;
    }
  }
  // Cross-sections.
  const { axis, outerRadius } = filament;
  const n = axis.length / 3;
  const tangents = polylineTangents(axis);
  const [nz, ny, nx] = shape;
  const reach = outerRadius + 0.5;
  let counted = 0, covered = 0;
  for (let p = 0; p < n; p++) {
    const ax = axis[3 * p], ay = axis[3 * p + 1], az = axis[3 * p + 2];
    const tx = tangents[3 * p], ty = tangents[3 * p + 1], tz = tangents[3 * p + 2];
    let total = 0, inMask = 0;
    forBox(shape, ax, ay, az, reach, (x, y, z, index) => {
      if (inst[index] !== id) return;
      const wx = x - ax, wy = y - ay, wz = z - az;
      const along = wx * tx + wy * ty + wz * tz;
      if (along > 0.5 || along < -0.5) return;
      if (wx * wx + wy * wy + wz * wz - along * along > reach * reach) return;
      total++;
      if (m[index]) inMask++;
    });
    if (total === 0) continue;
    counted++;
    if (inMask >= CROSS_SECTION_COVERED * total) covered++;
  }
  // Mask voxels near the axis: the tube region rasterised ball by ball.
  const tube = new Uint8Array(nz * ny * nx);
  const r = outerRadius + 1;
  for (let p = 0; p < n; p++) {
    const ax = axis[3 * p], ay = axis[3 * p + 1], az = axis[3 * p + 2];
    forBox(shape, ax, ay, az, r, (x, y, z, index) => {
      if ((x - ax) ** 2 + (y - ay) ** 2 + (z - az) ** 2 <= r * r) tube[index] = 1;
    });
  }
  let inTube = 0;
  for (let i = 0; i < m.length; i++) if (m[i] && tube[i]) inTube++;
  return {
    lengthCovered: counted === 0 ? 0 : covered / counted,
    wallCoverage: truthVoxels === 0 ? 0 : hits / truthVoxels,
    inTube: maskVoxels === 0 ? 1 : inTube / maskVoxels,
    truthVoxels,
    maskVoxels,
  };
}

/** Calls `visit` for every voxel of the box of half-size `reach` around (x, y, z), clipped to the volume. */
function forBox(shape: Shape3, cx: number, cy: number, cz: number, reach: number, visit: (x: number, y: number, z: number, index: number) => void): void {
  const [nz, ny, nx] = shape;
  const z0 = Math.max(0, Math.floor(cz - reach)), z1 = Math.min(nz - 1, Math.ceil(cz + reach));
  const y0 = Math.max(0, Math.floor(cy - reach)), y1 = Math.min(ny - 1, Math.ceil(cy + reach));
  const x0 = Math.max(0, Math.floor(cx - reach)), x1 = Math.min(nx - 1, Math.ceil(cx + reach));
  for (let z = z0; z <= z1; z++) for (let y = y0; y <= y1; y++) for (let x = x0, i = (z * ny + y) * nx + x0; x <= x1; x++, i++) visit(x, y, z, i);
}

export interface AxisError {
  /** Mean distance from the traced points to the true axis polyline, voxels (NaN without points). */
  meanDistance: number;
  /** Fraction of the true axis points within 3 voxels of a traced point. */
  covered: number;
}

/** Distance within which a true axis point counts as traced. */
export const AXIS_TOLERANCE = 3;

/** How well traced axis points (voxels) follow a filament's true axis. */
export function axisError(points: readonly VoxelPoint[], filament: SimulatedFilament): AxisError {
  const a = filament.axis;
  const n = a.length / 3;
  let sum = 0;
  for (const p of points) {
    let best = Infinity;
    for (let i = 0; i + 1 < n || (n === 1 && i === 0); i++) {
      const d = n === 1 ? Math.hypot(p.x - a[0], p.y - a[1], p.z - a[2]) : segmentDistance(p, a, i);
      if (d < best) best = d;
    }
    sum += best;
  }
  let covered = 0;
  const t2 = AXIS_TOLERANCE * AXIS_TOLERANCE;
  for (let i = 0; i < n; i++) {
    if (points.some((p) => (p.x - a[3 * i]) ** 2 + (p.y - a[3 * i + 1]) ** 2 + (p.z - a[3 * i + 2]) ** 2 <= t2)) covered++;
  }
  return { meanDistance: points.length === 0 ? NaN : sum / points.length, covered: n === 0 ? 0 : covered / n };
}

/** Distance from p to the segment between polyline points i and i + 1. */
function segmentDistance(p: VoxelPoint, a: Float64Array, i: number): number {
  const ax = a[3 * i], ay = a[3 * i + 1], az = a[3 * i + 2];
  const dx = a[3 * i + 3] - ax, dy = a[3 * i + 4] - ay, dz = a[3 * i + 5] - az;
  const len2 = dx * dx + dy * dy + dz * dz;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((p.x - ax) * dx + (p.y - ay) * dy + (p.z - az) * dz) / len2)) : 0;
  return Math.hypot(p.x - ax - t * dx, p.y - ay - t * dy, p.z - az - t * dz);
}

export interface MembraneMaskScore {
  /** Measured voxels of the membrane in the mask / measured voxels of the membrane (1 when none is measured). */
  recall: number;
  /** Mask voxels within 2 voxels of the membrane's truth voxels / mask voxels (1 for an empty mask). */
  precision: number;
  measuredVoxels: number;
  maskVoxels: number;
}

/** Scores a mask against one membrane: recall of the part the tilt series saw, precision within 2 voxels. */
export function scoreMembraneMask(mask: MaskInput, membraneId: number, truth: StructureVolumes): MembraneMaskScore {
  const shape = truth.instances.shape;
  const m = fullMask(mask, shape);
  const inst = truth.instances.data, labels = truth.labels.data, measured = truth.measured;
  const isMembrane = (i: number) => inst[i] === membraneId && labels[i] === MEMBRANE_LABEL;
  const [nz, ny, nx] = shape;
  const offsets: [number, number, number][] = [];
  const t = MEMBRANE_TOLERANCE;
  for (let dz = -t; dz <= t; dz++) for (let dy = -t; dy <= t; dy++) for (let dx = -t; dx <= t; dx++) if (dz * dz + dy * dy + dx * dx <= t * t) offsets.push([dz, dy, dx]);
  let measuredVoxels = 0, found = 0, maskVoxels = 0, near = 0;
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (measured[i] && isMembrane(i)) {
          measuredVoxels++;
          if (m[i]) found++;
        }
        if (!m[i]) continue;
        maskVoxels++;
        for (const [dz, dy, dx] of offsets) {
          const zz = z + dz, yy = y + dy, xx = x + dx;
          if (zz < 0 || zz >= nz || yy < 0 || yy >= ny || xx < 0 || xx >= nx) continue;
          if (isMembrane((zz * ny + yy) * nx + xx)) {
            near++;
            break;
          }
        }
      }
    }
  }
  return {
    recall: measuredVoxels === 0 ? 1 : found / measuredVoxels,
    precision: maskVoxels === 0 ? 1 : near / maskVoxels,
    measuredVoxels,
    maskVoxels,
  };
}

/** A straight tube found in a tomogram. */
export interface Tube {
  /** A point of the axis: the centroid of the brightest (polarity-signed) voxels, in voxels. */
  point: VoxelPoint;
  /** Unit direction of the axis (x, y, z): the principal axis of those voxels, its largest component positive. */
  direction: VoxelPoint;
  /** Where the bright voxels lie along the axis, as offsets from `point` in voxels [from, to]. */
  extent: [number, number];
  /** Mean polarity-signed smoothed density at 0, 1, 2, ... voxels (rounded) from the axis, within the extent. */
  radialProfile: Float64Array;
  /** Radius of the radial profile's peak (the wall), voxels. */
  wallRadius: number;
  /** The volume's shape, for scoring masks of it. */
  shape: Shape3;
}

export interface TubeOptions {
  /** Gaussian smoothing before thresholding, σ in voxels (default 2). */
  sigma?: number;
  /** Fraction of the voxels kept as the brightest (default 0.07). */
  fraction?: number;
}

/** Re-fits after keeping only the bright voxels this close to the first axis, voxels: drops bright clutter. */
const REFIT_RADIUS = 20;
const PROFILE_RADIUS = 30;

/**
 * The axis of the one tube in a real tomogram, from the data alone: smooth, keep the brightest
 * (polarity-signed: 'dark' protein is negated) voxels, take their centroid and principal axis
 * (PCA), refit once without the bright voxels far from that axis, then measure the radial profile
 * about the axis to show the wall (a hollow tube peaks at its wall radius).
 */
export function tubeFromDensity(volume: Volume, polarity: 'bright' | 'dark', options: TubeOptions = {}): Tube {
  const sigma = options.sigma ?? 2;
  const fraction = options.fraction ?? 0.07;
  const shape = volume.shape;
  const smooth = gaussianFilter3d(volume, sigma).data;
  if (polarity === 'dark') for (let i = 0; i < smooth.length; i++) smooth[i] = -smooth[i];
  const sorted = Float32Array.from(smooth).sort();
  const threshold = sorted[Math.min(sorted.length - 1, Math.floor((1 - fraction) * sorted.length))];
  let fit = principalAxis(smooth, shape, threshold, undefined);
  fit = principalAxis(smooth, shape, threshold, { ...fit, radius: REFIT_RADIUS });
  const { point, direction } = fit;
  // Extent of the bright voxels along the axis, and the radial profile within it.
  let lo = Infinity, hi = -Infinity;
  forLine(shape, point, direction, (along, rho, i) => {
    if (smooth[i] >= threshold && rho <= REFIT_RADIUS) {
      if (along < lo) lo = along;
      if (along > hi) hi = along;
    }
  });
  const sums = new Float64Array(PROFILE_RADIUS + 1), counts = new Float64Array(PROFILE_RADIUS + 1);
  forLine(shape, point, direction, (along, rho, i) => {
    const r = Math.round(rho);
    if (along < lo || along > hi || r > PROFILE_RADIUS) return;
    sums[r] += smooth[i];
    counts[r]++;
  });
  const radialProfile = sums.map((s, r) => (counts[r] > 0 ? s / counts[r] : NaN));
  let wallRadius = 0;
  for (let r = 1; r <= PROFILE_RADIUS; r++) if (!(radialProfile[r] <= radialProfile[wallRadius])) wallRadius = r;
  return { point, direction, extent: [lo, hi], radialProfile, wallRadius, shape };
}

/** Visits every voxel with its offset along the line and its distance from it. */
function forLine(shape: Shape3, p: VoxelPoint, d: VoxelPoint, visit: (along: number, rho: number, index: number) => void): void {
  const [nz, ny, nx] = shape;
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        const wx = x - p.x, wy = y - p.y, wz = z - p.z;
        const along = wx * d.x + wy * d.y + wz * d.z;
        visit(along, Math.sqrt(Math.max(0, wx * wx + wy * wy + wz * wz - along * along)), i);
      }
    }
  }
}

/** Centroid and principal axis of the voxels ≥ threshold (only those within `near.radius` of a line, when given). */
function principalAxis(
  data: Float32Array,
  shape: Shape3,
  threshold: number,
  near: { point: VoxelPoint; direction: VoxelPoint; radius: number } | undefined,
): { point: VoxelPoint; direction: VoxelPoint } {
  const [nz, ny, nx] = shape;
  let n = 0, sx = 0, sy = 0, sz = 0;
  const keep = (x: number, y: number, z: number, i: number) => {
    if (data[i] < threshold) return false;
    if (!near) return true;
    const wx = x - near.point.x, wy = y - near.point.y, wz = z - near.point.z;
    const along = wx * near.direction.x + wy * near.direction.y + wz * near.direction.z;
    return wx * wx + wy * wy + wz * wz - along * along <= near.radius * near.radius;
  };
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) if (keep(x, y, z, i)) (n++, (sx += x), (sy += y), (sz += z));
  if (n < 3) throw new CryosamError('tubeFromDensity: too few bright voxels to find an axis');
  const c = { x: sx / n, y: sy / n, z: sz / n };
  const cov = [0, 0, 0, 0, 0, 0]; // xx, xy, xz, yy, yz, zz
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (!keep(x, y, z, i)) continue;
        const dx = x - c.x, dy = y - c.y, dz = z - c.z;
        cov[0] += dx * dx, cov[1] += dx * dy, cov[2] += dx * dz, cov[3] += dy * dy, cov[4] += dy * dz, cov[5] += dz * dz;
      }
    }
  }
  return { point: c, direction: largestEigenvector(cov) };
}

/** Unit eigenvector of the largest eigenvalue of a symmetric 3×3 matrix (xx, xy, xz, yy, yz, zz), by power iteration. */
function largestEigenvector(m: number[]): VoxelPoint {
  const [a, b, c, d, e, f] = m;
  // Start from the matrix's largest column: never orthogonal to the leading eigenvector.
  const cols: [number, number, number][] = [[a, b, c], [b, d, e], [c, e, f]];
  let v = cols.reduce((best, col) => (Math.hypot(...col) > Math.hypot(...best) ? col : best));
  for (let k = 0; k < 200; k++) {
    const w: [number, number, number] = [a * v[0] + b * v[1] + c * v[2], b * v[0] + d * v[1] + e * v[2], c * v[0] + e * v[1] + f * v[2]];
    const norm = Math.hypot(...w) || 1;
    v = [w[0] / norm, w[1] / norm, w[2] / norm];
  }
  // A fixed sign, so the same tube always gives the same direction: the largest component positive.
  const big = v.reduce((j, _, i) => (Math.abs(v[i]) > Math.abs(v[j]) ? i : j), 0);
  const s = v[big] < 0 ? -1 : 1;
  return { x: s * v[0], y: s * v[1], z: s * v[2] };
}

export interface TubeMaskScore {
  /** Fraction of the tube's length inside the volume whose cross-section has ≥ 30% of its wall-band voxels in the mask. */
  lengthCovered: number;
  /** Fraction of the voxels `wall` voxels from the axis, within the tube's extent, that are in the mask. */
  wallCoverage: number;
  /** Fraction of mask voxels within wall[1] voxels of the axis segment (1 for an empty mask). */
  inTube: number;
  maskVoxels: number;
}

/** Scores a mask of a real tube by its geometry: the wall band [inner, outer] voxels from the axis found in the data. */
export function scoreTubeMask(mask: MaskInput, tube: Tube, wall: [number, number] = [8, 14]): TubeMaskScore {
  const m = fullMask(mask, tube.shape);
  const [inner, outer] = wall;
  const [lo, hi] = tube.extent;
  const bins = Math.max(1, Math.floor(hi - lo) + 1);
  const band = new Float64Array(bins), bandHit = new Float64Array(bins);
  let bandTotal = 0, bandInMask = 0, maskVoxels = 0, inTube = 0;
  forLine(tube.shape, tube.point, tube.direction, (along, rho, i) => {
    const inside = m[i] !== 0;
    if (inside) {
      maskVoxels++;
      const beyond = along < lo ? lo - along : along > hi ? along - hi : 0;
      if (rho * rho + beyond * beyond <= outer * outer) inTube++;
    }
    if (along < lo || along > hi || rho < inner || rho > outer) return;
    const b = Math.min(bins - 1, Math.floor(along - lo));
    band[b]++;
    bandTotal++;
    if (inside) {
      bandHit[b]++;
      bandInMask++;
    }
  });
  let counted = 0, covered = 0;
  for (let b = 0; b < bins; b++) {
    if (band[b] === 0) continue;
    counted++;
    if (bandHit[b] >= CROSS_SECTION_COVERED * band[b]) covered++;
  }
  return {
    lengthCovered: counted === 0 ? 0 : covered / counted,
    wallCoverage: bandTotal === 0 ? 0 : bandInMask / bandTotal,
    inTube: maskVoxels === 0 ? 1 : inTube / maskVoxels,
    maskVoxels,
  };
}

/** A mask of the wall band of a tube (voxels `wall` from the axis, within its extent): the ideal segmentation. */
export function tubeWallMask(tube: Tube, wall: [number, number] = [8, 14]): Uint8Array {
  const out = new Uint8Array(voxelCount(tube.shape));
  const [lo, hi] = tube.extent;
  forLine(tube.shape, tube.point, tube.direction, (along, rho, i) => {
    if (along >= lo && along <= hi && rho >= wall[0] && rho <= wall[1]) out[i] = 1;
  });
  return out;
}
