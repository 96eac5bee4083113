/**
 * Membranes from one click: find the sheet's normal and mid-surface at the clicked point, grow over
 * the sheet patch by patch while it stays a sheet of that thickness and contrast, and fill it.
 *
 * A membrane is locally a slab: in a short cylinder across it, the density varies with depth along
 * the normal and hardly at all within the sheet ("layering": the variance the depth profile
 * explains). Growing tries hexagonal neighbours on the tangent plane of each accepted patch, tilts
 * their normal to follow curvature, moves them onto the profile's peak, and keeps those whose
 * profile still looks like the clicked patch's. Where the missing wedge hides the membrane (its
 * normal near the beam) the contrast fades, the patches fail and growth stops there instead of
 * leaking into whatever lies beyond.
 */
import { add, cross, dot, perpendicularBasis, sampleInside, unit, type Vec3 } from '../volume/cross-section.js';
import { structureTensor, symmetricEigen3 } from '../volume/structure-tensor.js';
import { pearson } from '../volume/stats.js';
import type { Shape3, Volume } from '../volume/volume.js';
import { fromBoxMask } from './instance.js';
import type { ParticleMask, VoxelPoint } from './types.js';

export interface MembraneOptions {
  /** The thickest sheet looked for, in voxels (a lipid bilayer is 4–5 nm). */
  maxThickness: number;
  /** Distance between neighbouring patches on the sheet, in voxels. */
  spacing: number;
  /** A patch continues the sheet when its depth profile correlates with the clicked patch's by at least this … */
  minProfileCorrelation: number;
  /** … its layering is at least this fraction of the clicked patch's … */
  minLayeringFraction: number;
  /** … and its peak contrast at least this fraction of the clicked patch's. */
  minContrastFraction: number;
  /** Growth stops after this many patches (a runaway guard; about 150 000 voxels² of sheet at the default spacing). */
  maxPatches: number;
  /** The tightest bend a membrane makes, as a radius of curvature in voxels: a sheet that bends more sharply (a microtubule's wall) is not followed. */
  minCurvatureRadius: number;
}

/** A patch is left out when a normal tilted twice the sharpest bend allowed layers it this much better: the sheet bends like a filament's wall. */
const SHARP_BEND_MARGIN = 1.15;

/** One accepted piece of the sheet: a point on its mid-surface and the normal there. */
export interface MembranePatch {
  centre: Vec3;
  normal: Vec3;
}

export interface MembraneSheet {
  patches: MembranePatch[];
  /** Half-maximum thickness of the mean depth profile, in voxels. */
  thickness: number;
  /** Sheet area in voxels² (patches × the hexagonal cell's area). */
  areaVoxels: number;
  /** Mean layering of the accepted patches (0..1). */
  layering: number;
  /** The membrane's contrast: −1 darker than its surroundings, +1 brighter. */
  polarity: -1 | 1;
}

interface Layers {
  /** Mean polarity-signed density at depth −half … +half along the normal. */
  profile: Float32Array;
  /** Between-depth variance over total variance in the cylinder. */
  layering: number;
}

/** Depth profile across the sheet in a cylinder of `radius` about `centre` along `normal`. */
function layers(tomogram: Volume, centre: Vec3, normal: Vec3, radius: number, half: number, polarity: number): Layers {
  const [u, v] = perpendicularBasis(normal);
  const depth = 2 * half + 1;
  const sums = new Float64Array(depth), counts = new Float64Array(depth);
  let sum = 0, sumSq = 0, n = 0;
  for (let i = -radius; i <= radius; i++) {
    for (let j = -radius; j <= radius; j++) {
      if (i * i + j * j > radius * radius) continue;
      const p = add(add(centre, u, j), v, i);
      for (let t = -half; t <= half; t++) {
        const value = sampleInside(tomogram, add(p, normal, t));
        if (value !== value) continue;
        const s = polarity * value;
        sums[t + half] += s;
        counts[t + half]++;
        sum += s;
        sumSq += s * s;
        n++;
      }
    }
  }
  const profile = new Float32Array(depth);
  if (n === 0) return { profile, layering: 0 };
  const mean = sum / n;
  let between = 0;
  for (let k = 0; k < depth; k++) {
    if (!counts[k]) continue;
    profile[k] = sums[k] / counts[k];
    between += counts[k] * (profile[k] - mean) ** 2;
  }
  const total = sumSq - n * mean * mean;
  return { profile, layering: total > 0 ? between / total : 0 };
}

/**
 * The profile's peak, its height over the higher of the two ends (a sheet has background on both
 * sides; a slope or an edge does not), its half-maximum width (voxels), and whether the profile
 * falls below half maximum on both sides within the window.
 */
function peakOf(profile: Float32Array): { at: number; contrast: number; width: number; enclosed: boolean } {
  const n = profile.length;
  const background = Math.max((profile[0] + profile[1]) / 2, (profile[n - 2] + profile[n - 1]) / 2);
  let at = 1;
  for (let k = 1; k < n - 1; k++) if (profile[k] > profile[at]) at = k;
  const contrast = profile[at] - background;
  const half = background + contrast / 2;
  let lo = at, hi = at;
  while (lo > 0 && profile[lo - 1] >= half) lo--;
  while (hi < n - 1 && profile[hi + 1] >= half) hi++;
  const left = lo > 0 ? lo - (profile[lo] - half) / Math.max(1e-9, profile[lo] - profile[lo - 1]) : lo;
  const right = hi < n - 1 ? hi + (profile[hi] - half) / Math.max(1e-9, profile[hi] - profile[hi + 1]) : hi;
  return { at, contrast, width: Math.max(1, right - left), enclosed: contrast > 0 && lo > 0 && hi < n - 1 };
}

/** Normals tilted from `n` by `degrees` in six directions, and `n` itself. */
function tilted(n: Vec3, degrees: number): Vec3[] {
  const [u, v] = perpendicularBasis(n);
  const t = Math.tan((degrees * Math.PI) / 180);
  const out = [n];
  for (let k = 0; k < 6; k++) {
    const a = (k * Math.PI) / 3;
    out.push(unit(add(add(n, u, t * Math.cos(a)), v, t * Math.sin(a))));
  }
  return out;
}

interface Candidate extends MembranePatch, Layers {
  peak: ReturnType<typeof peakOf>;
}

/** The best of `normals` at `at`: the most layered profile, its centre moved onto the profile's peak. */
function bestPatch(tomogram: Volume, at: Vec3, normals: readonly Vec3[], radius: number, half: number, polarity: number): Candidate {
  let best: Candidate | undefined;
  for (const normal of normals) {
    const l = layers(tomogram, at, normal, radius, half, polarity);
    if (!best || l.layering > best.layering) best = { centre: at, normal, ...l, peak: peakOf(l.profile) };
  }
  const b = best!;
  return { ...b, centre: add(at, b.normal, b.peak.at - half) };
}

/** Hexagonal grid cells already covered, so growth visits each part of the sheet once. */
class Covered {
  private readonly cells = new Map<number, Vec3[]>();
  constructor(private readonly cell: number) {}
  private key(p: Vec3): number {
    return (Math.floor(p.z / this.cell) * 4096 + Math.floor(p.y / this.cell)) * 4096 + Math.floor(p.x / this.cell);
  }
  near(p: Vec3, distance: number): boolean {
    const cz = Math.floor(p.z / this.cell), cy = Math.floor(p.y / this.cell), cx = Math.floor(p.x / this.cell);
    for (let z = cz - 1; z <= cz + 1; z++)
      for (let y = cy - 1; y <= cy + 1; y++)
        for (let x = cx - 1; x <= cx + 1; x++)
          for (const q of this.cells.get((z * 4096 + y) * 4096 + x) ?? []) if ((q.x - p.x) ** 2 + (q.y - p.y) ** 2 + (q.z - p.z) ** 2 < distance * distance) return true;
    return false;
  }
  add(p: Vec3): void {
    const k = this.key(p);
    const list = this.cells.get(k);
    if (list) list.push(p);
    else this.cells.set(k, [p]);
  }
}

/** The clicked patch: the normal (of the structure tensor's eigenvectors and the axes) across which the density is most layered. */
export function findSheet(tomogram: Volume, click: Vec3, polarity: -1 | 1 | undefined, opts: MembraneOptions): Candidate & { polarity: -1 | 1 } {
  const half = Math.ceil(opts.maxThickness) + 3;
  const normals: Vec3[] = [];
  for (const radius of [3, 6]) normals.push(...symmetricEigen3(structureTensor(tomogram, click, radius)).vectors);
  normals.push({ x: 1, y: 0, z: 0 }, { x: 0, y: 1, z: 0 }, { x: 0, y: 0, z: 1 });
  // Unknown contrast: the sign of the depth profile's largest departure from its ends (a band-passed
  // sheet has weaker halos of the other sign on both sides; a peak test alone can pick a halo).
  let sign = polarity;
  if (sign === undefined) {
    const { profile } = bestPatch(tomogram, click, normals, Math.ceil(opts.spacing), half, 1);
    const n = profile.length;
    const ends = (profile[0] + profile[1] + profile[n - 2] + profile[n - 1]) / 4;
    let extreme = 0;
    for (const v of profile) if (Math.abs(v - ends) > Math.abs(extreme)) extreme = v - ends;
    sign = extreme < 0 ? -1 : 1;
  }
  const first = bestPatch(tomogram, click, normals, Math.ceil(opts.spacing), half, sign);
  // Refine the normal once about the best, then centre on the peak.
  return { ...bestPatch(tomogram, first.centre, tilted(first.normal, 10), Math.ceil(opts.spacing), half, sign), polarity: sign };
}

/** Grows the membrane sheet through `click` (`given`: the membrane's contrast, −1 dark, +1 bright; undefined: read off the clicked patch). */
export function growMembrane(tomogram: Volume, click: VoxelPoint, given: -1 | 1 | undefined, opts: MembraneOptions): MembraneSheet {
  const [nz, ny, nx] = tomogram.shape;
  const half = Math.ceil(opts.maxThickness) + 3;
  const radius = Math.ceil(opts.spacing);
  const seed = findSheet(tomogram, click, given, opts);
  const { polarity } = seed;
  // A slope or an edge under the click is no sheet: nothing grows.
  if (!seed.peak.enclosed) return { patches: [], thickness: 0, areaVoxels: 0, layering: 0, polarity };
  const reference = seed;
  const patches: MembranePatch[] = [{ centre: seed.centre, normal: seed.normal }];
  const covered = new Covered(opts.spacing);
  covered.add(seed.centre);
  const queue: MembranePatch[] = [patches[0]];
  // The normal may turn by spacing / radius of curvature per step; tilts on either side of that tell a membrane's bend from a sharper one.
  const bendDeg = ((opts.spacing / opts.minCurvatureRadius) * 180) / Math.PI;
  let layeringSum = seed.layering, widthSum = seed.peak.width;
  while (queue.length && patches.length < opts.maxPatches) {
    const p = queue.shift()!;
    const [u] = perpendicularBasis(p.normal);
    const w = cross(p.normal, u);
    for (let k = 0; k < 6; k++) {
      const a = (k * Math.PI) / 3;
      const at = add(add(p.centre, u, opts.spacing * Math.cos(a)), w, opts.spacing * Math.sin(a));
      if (at.x < 0 || at.y < 0 || at.z < 0 || at.x > nx - 1 || at.y > ny - 1 || at.z > nz - 1) continue;
      if (covered.near(at, 0.7 * opts.spacing)) continue;
      const c = bestPatch(tomogram, at, tilted(p.normal, 0.75 * bendDeg), radius, half, polarity);
      const sharper = bestPatch(tomogram, at, tilted(p.normal, 1.5 * bendDeg).slice(1), radius, half, polarity);
      const normal = dot(c.normal, p.normal) < 0 ? { x: -c.normal.x, y: -c.normal.y, z: -c.normal.z } : c.normal;
      const ok =
        c.peak.enclosed &&
        sharper.layering <= SHARP_BEND_MARGIN * c.layering &&
        c.layering >= opts.minLayeringFraction * reference.layering &&
        c.peak.contrast >= opts.minContrastFraction * reference.peak.contrast &&
        pearson(c.profile, reference.profile) >= opts.minProfileCorrelation &&
        !covered.near(c.centre, 0.5 * opts.spacing);
      // A rejected position is marked too: it is not tried again from another neighbour.
      covered.add(ok ? c.centre : at);
      if (!ok) continue;
      const patch = { centre: c.centre, normal };
      patches.push(patch);
      queue.push(patch);
      layeringSum += c.layering;
      widthSum += c.peak.width;
    }
  }
  return {
    patches,
    thickness: widthSum / patches.length,
    areaVoxels: patches.length * (Math.sqrt(3) / 2) * opts.spacing ** 2,
    layering: layeringSum / patches.length,
    polarity,
  };
}

/** The sheet as a mask: voxels within half its thickness of a patch's plane, and near that patch. */
export function membraneMask(sheet: MembraneSheet, shape: Shape3, spacing: number): ParticleMask {
  const [nz, ny, nx] = shape;
  const halfT = sheet.thickness / 2 + 0.5;
  const reach = 0.75 * spacing;
  const R = Math.ceil(Math.max(halfT, reach)) + 1;
  let z0 = nz, z1 = 0, y0 = ny, y1 = 0, x0 = nx, x1 = 0;
  for (const { centre: c } of sheet.patches) {
    z0 = Math.min(z0, Math.floor(c.z) - R); z1 = Math.max(z1, Math.ceil(c.z) + R + 1);
    y0 = Math.min(y0, Math.floor(c.y) - R); y1 = Math.max(y1, Math.ceil(c.y) + R + 1);
    x0 = Math.min(x0, Math.floor(c.x) - R); x1 = Math.max(x1, Math.ceil(c.x) + R + 1);
  }
  const bbox = { z0: Math.max(0, z0), z1: Math.min(nz, z1), y0: Math.max(0, y0), y1: Math.min(ny, y1), x0: Math.max(0, x0), x1: Math.min(nx, x1) };
  const by = bbox.y1 - bbox.y0, bx = bbox.x1 - bbox.x0;
  const mask = new Uint8Array(Math.max(0, (bbox.z1 - bbox.z0) * by * bx));
  for (const { centre: c, normal: n } of sheet.patches) {
    for (let z = Math.max(bbox.z0, Math.floor(c.z) - R); z < Math.min(bbox.z1, Math.ceil(c.z) + R + 1); z++) {
      for (let y = Math.max(bbox.y0, Math.floor(c.y) - R); y < Math.min(bbox.y1, Math.ceil(c.y) + R + 1); y++) {
        for (let x = Math.max(bbox.x0, Math.floor(c.x) - R); x < Math.min(bbox.x1, Math.ceil(c.x) + R + 1); x++) {
          const d = { x: x - c.x, y: y - c.y, z: z - c.z };
          const along = dot(d, n);
          if (Math.abs(along) > halfT) continue;
          const inPlane2 = d.x * d.x + d.y * d.y + d.z * d.z - along * along;
          if (inPlane2 <= reach * reach) mask[((z - bbox.z0) * by + (y - bbox.y0)) * bx + (x - bbox.x0)] = 1;
        }
      }
    }
  }
  return fromBoxMask(bbox, mask);
}

/** The sphere through a set of points, by least squares on |p|² = 2 c·p + k; undefined when they are too few or flat. */
export function fitSphere(points: readonly Vec3[]): { centre: Vec3; radius: number; rms: number } | undefined {
  if (points.length < 8) return undefined;
  // Normal equations of [2x 2y 2z 1]·[cx cy cz k] = x² + y² + z², centred for conditioning.
  const m = { x: 0, y: 0, z: 0 };
  for (const p of points) {
    m.x += p.x / points.length; m.y += p.y / points.length; m.z += p.z / points.length;
  }
  const A = Array.from({ length: 4 }, () => new Float64Array(5));
  for (const p of points) {
    const x = p.x - m.x, y = p.y - m.y, z = p.z - m.z;
    const row = [2 * x, 2 * y, 2 * z, 1, x * x + y * y + z * z];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) A[i][j] += row[i] * row[j];
  }
  // Gaussian elimination with partial pivoting.
  for (let c = 0; c < 4; c++) {
    let pivot = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(A[r][c]) > Math.abs(A[pivot][c])) pivot = r;
    [A[c], A[pivot]] = [A[pivot], A[c]];
    if (Math.abs(A[c][c]) < 1e-9) return undefined;
    for (let r = 0; r < 4; r++) {
      if (r === c) continue;
      const f = A[r][c] / A[c][c];
      for (let j = c; j < 5; j++) A[r][j] -= f * A[c][j];
    }
  }
  const cx = A[0][4] / A[0][0], cy = A[1][4] / A[1][1], cz = A[2][4] / A[2][2], k = A[3][4] / A[3][3];
  const r2 = k + cx * cx + cy * cy + cz * cz;
  if (!(r2 > 0)) return undefined;
  const radius = Math.sqrt(r2);
  const centre = { x: cx + m.x, y: cy + m.y, z: cz + m.z };
  let sq = 0;
  for (const p of points) sq += (Math.hypot(p.x - centre.x, p.y - centre.y, p.z - centre.z) - radius) ** 2;
  return { centre, radius, rms: Math.sqrt(sq / points.length) };
}

/**
 * Whether points lie on one vesicle: a sphere of at most VESICLE_MAX_RADIUS_A fits them within
 * SPHERE_RMS voxels (a membrane slab 4–5 voxels thick fits its mid-surface at about 1.3).
 */
export function onOneVesicle(points: readonly Vec3[], voxelSizeA: number): ReturnType<typeof fitSphere> | undefined {
  const fit = fitSphere(points);
  return fit && fit.rms <= SPHERE_RMS && fit.radius * voxelSizeA <= VESICLE_MAX_RADIUS_A ? fit : undefined;
}

const SPHERE_RMS = 2;
const VESICLE_MAX_RADIUS_A = 1000;
