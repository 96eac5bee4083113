/**
 * Filaments (microtubules, actin) from one click: find the filament's axis through the clicked
 * point, follow it both ways through the tomogram, and fill its cross-section.
 *
 * A filament's cross-section is (nearly) rotationally symmetric about its axis, a solid disc for
 * actin and a ring for a microtubule. So the axis is where a cross-section's radial profile explains
 * most of its variance ("radial symmetry"), which needs no model of the filament: it finds the centre
 * of a ring from a click on its wall. Following the axis, each next cross-section is centred the same
 * way near the predicted point and must keep the radial profile the first ones had; a few failing
 * cross-sections in a row (a gap, a crossing) are stepped over, more end the trace. The mask is the
 * tube between the half-maximum radii of the mean profile: the whole tube, both walls, its whole
 * length.
 */
import { add, dot, norm, samplePlane, sub, unit, type PlaneImage, type Vec3 } from '../volume/cross-section.js';
import { structureTensor, symmetricEigen3 } from '../volume/structure-tensor.js';
import { pearson } from '../volume/stats.js';
import type { Shape3, Volume } from '../volume/volume.js';
import { fromBoxMask } from './instance.js';
import type { ParticleMask, VoxelPoint } from './types.js';

export interface FilamentOptions {
  /** The largest outer radius looked for, in voxels (a microtubule's is 12.5 nm). */
  maxRadius: number;
  /** Distance between axis points, in voxels. */
  step: number;
  /** Failing cross-sections are stepped over for up to this many voxels (a gap, a crossing). */
  maxGap: number;
  /** A cross-section continues the filament when its radial profile correlates with the filament's by at least this. */
  minProfileCorrelation: number;
  /** ... and its radial symmetry is at least this fraction of the first cross-sections'. */
  minSymmetryFraction: number;
}

export interface FilamentTrace {
  /** Axis points from one end to the other, `step` voxels apart. */
  axis: VoxelPoint[];
  /** Half-maximum radii of the mean radial profile, in voxels; inner 0 for a solid filament. */
  innerRadius: number;
  outerRadius: number;
  lengthVoxels: number;
  /** Mean radial symmetry of the accepted cross-sections (0..1: the variance their radial profile explains). */
  symmetry: number;
  /** The filament's contrast: −1 darker than its surroundings, +1 brighter. */
  polarity: -1 | 1;
  /**
   * How far, on average along the trace, the density continues on two opposite sides past the
   * outer radius, as a fraction of the contrast: about 0 for a filament, 0.3 and more for a sheet
   * traced across (one cross-section is noisy; the whole trace is not).
   */
  sheetness: number;
  /** Fraction of the axis points whose cross-section was found (the rest step over gaps and crossings). */
  measuredFraction: number;
  /** Mean radial profile (polarity-signed density, r = 0, 1, … voxels). */
  profile: Float32Array;
}

/** Pixels of a disc sorted into rings of whole-voxel radius, for radial profiles. */
interface Rings {
  radius: number;
  di: Int32Array;
  dj: Int32Array;
  ring: Int32Array;
}

function ringsOf(radius: number): Rings {
  const di: number[] = [], dj: number[] = [], ring: number[] = [];
  for (let i = -radius; i <= radius; i++) {
    for (let j = -radius; j <= radius; j++) {
      const r = Math.round(Math.hypot(i, j));
      if (r > radius) continue;
      di.push(i);
      dj.push(j);
      ring.push(r);
    }
  }
  return { radius, di: Int32Array.from(di), dj: Int32Array.from(dj), ring: Int32Array.from(ring) };
}

interface Centred {
  /** Pixel of the image where the cross-section is most symmetric. */
  i: number;
  j: number;
  symmetry: number;
  profile: Float32Array;
}

/** Radial symmetry about image pixel (ci, cj): between-ring variance over total variance, and the radial profile. */
function radialSymmetry(img: PlaneImage, ci: number, cj: number, rings: Rings, profile: Float64Array, counts: Float64Array): number {
  const size = 2 * img.radius + 1;
  profile.fill(0);
  counts.fill(0);
  let sum = 0, sumSq = 0, n = 0;
  for (let k = 0; k < rings.ring.length; k++) {
    const v = img.data[(ci + rings.di[k]) * size + cj + rings.dj[k]];
    if (v !== v) continue;
    profile[rings.ring[k]] += v;
    counts[rings.ring[k]]++;
    sum += v;
    sumSq += v * v;
    n++;
  }
  if (n < rings.ring.length / 2) return 0;
  const mean = sum / n;
  const total = sumSq - n * mean * mean;
  let between = 0;
  for (let r = 0; r < profile.length; r++) {
    if (!counts[r]) continue;
    profile[r] /= counts[r];
    between += counts[r] * (profile[r] - mean) ** 2;
  }
  return total > 0 ? between / total : 0;
}

/** The most radially symmetric pixel within `search` pixels of the image's centre. */
function centreIn(img: PlaneImage, search: number, rings: Rings): Centred {
  const profile = new Float64Array(rings.radius + 1), counts = new Float64Array(rings.radius + 1);
  let best: Centred = { i: img.radius, j: img.radius, symmetry: -1, profile: new Float32Array(rings.radius + 1) };
  for (let i = img.radius - search; i <= img.radius + search; i++) {
    for (let j = img.radius - search; j <= img.radius + search; j++) {
      if ((i - img.radius) ** 2 + (j - img.radius) ** 2 > search * search) continue;
      const s = radialSymmetry(img, i, j, rings, profile, counts);
      if (s > best.symmetry) best = { i, j, symmetry: s, profile: Float32Array.from(profile) };
    }
  }
  return best;
}

function pixelToVoxel(img: PlaneImage, centre: Vec3, i: number, j: number): Vec3 {
  return add(add(centre, img.u, j - img.radius), img.v, i - img.radius);
}

/** Directions worth trying as the axis: the structure tensor's eigenvectors at a few scales, and the caller's. */
function candidateDirections(tomogram: Volume, click: Vec3, maxRadius: number, extra: readonly Vec3[]): Vec3[] {
  const out: Vec3[] = [...extra.map(unit)];
  for (const radius of [Math.max(3, maxRadius / 3), Math.max(4, (2 * maxRadius) / 3), Math.max(6, maxRadius * 1.2)]) {
    const { vectors } = symmetricEigen3(structureTensor(tomogram, click, radius));
    out.push(...vectors);
  }
  out.push({ x: 1, y: 0, z: 0 }, { x: 0, y: 1, z: 0 }, { x: 0, y: 0, z: 1 });
  // Near-duplicates (either sign) are tried once.
  return out.filter((d, k) => out.findIndex((e) => Math.abs(dot(d, e)) > 0.985) === k);
}

/** Half-slab along the axis for the first cross-section: long enough to average out noise, short enough for a curved filament. */
const FIRST_HALF_SLAB = 4;

/**
 * The most symmetric centre whose filament the click lies on: a more symmetric structure nearby (a
 * microtubule beside a clicked actin filament) is passed over by searching again closer to the click.
 */
function centreOnClick(img: PlaneImage, search: number, rings: Rings, given: number | undefined, maxRadius: number): (Centred & { polarity: -1 | 1 }) | undefined {
  for (let s = search; s >= 0; ) {
    const c = centreIn(img, s, rings);
    const distance = Math.hypot(c.i - img.radius, c.j - img.radius);
    const polarity = given === undefined ? profilePolarity(c.profile, maxRadius) : given < 0 ? -1 : 1;
    const { outer } = halfMaximumRadii(c.profile.map((v) => polarity * v), Math.ceil(maxRadius));
    if (distance <= outer + 1) return { ...c, polarity };
    s = Math.floor(distance) - 1;
  }
  return undefined;
}

/** Angular sectors of the ring just outside a cross-section, for sheetLike. */
const SECTORS = 12;
/** A cross-section whose density continues this fraction of its contrast on two opposite sides, past its outer radius, is a sheet's line, not a filament's disc. */
const SHEET_SECTOR_FRACTION = 0.3;

/**
 * Whether the cross-section about (c.i, c.j) is a line through the centre (a membrane cut across)
 * rather than a closed disc or ring: a filament has background all around just outside its outer
 * radius, a sheet continues there in two opposite directions.
 */
function sheetLike(img: PlaneImage, c: Centred, polarity: number, maxRadius: number): boolean {
  const signed = c.profile.map((v) => polarity * v);
  return sheetExcess(img, c.i, c.j, signed, halfMaximumRadii(signed, Math.ceil(maxRadius)).outer, polarity) >= SHEET_SECTOR_FRACTION;
}

/**
 * How far a cross-section's density continues on two opposite sides past its outer radius, as a
 * fraction of its contrast (0 for a disc or ring in background; about 0.5 and more for a sheet's
 * line). `signed` is its polarity-signed radial profile about pixel (ci, cj).
 */
function sheetExcess(img: PlaneImage, ci: number, cj: number, signed: Float32Array, outer: number, polarity: number): number {
  const n = signed.length;
  const background = (signed[n - 1] + signed[n - 2] + signed[n - 3]) / 3;
  let peak = -Infinity;
  for (let r = 0; r <= Math.min(n - 1, Math.ceil(outer)); r++) peak = Math.max(peak, signed[r]);
  const sums = new Float64Array(SECTORS), counts = new Float64Array(SECTORS);
  const size = 2 * img.radius + 1;
  // Past the missing wedge's smear of the filament along the beam (a few voxels), a sheet still continues.
  const r0 = outer + 6, r1 = outer + 9;
  for (let di = -Math.ceil(r1); di <= Math.ceil(r1); di++) {
    for (let dj = -Math.ceil(r1); dj <= Math.ceil(r1); dj++) {
      const r = Math.hypot(di, dj);
      if (r < r0 || r > r1) continue;
      const i = ci + di, j = cj + dj;
      if (i < 0 || j < 0 || i >= size || j >= size) continue;
      const v = img.data[i * size + j];
      if (v !== v) continue;
      const k = Math.min(SECTORS - 1, Math.floor(((Math.atan2(di, dj) + Math.PI) / (2 * Math.PI)) * SECTORS));
      sums[k] += polarity * v;
      counts[k]++;
    }
  }
  if (counts.filter((m) => m > 0).length < SECTORS / 2 || !(peak > background)) return 0;
  const means = Array.from(sums, (v, k) => (counts[k] ? v / counts[k] : NaN));
  const sorted = means.filter((m) => m === m).sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  // Two neighbouring sectors hold a line whichever way it falls; a sheet leaves on both opposite sides.
  const pair = (k: number) => (means[k % SECTORS] + means[(k + 1) % SECTORS]) / 2 - median;
  let excess = 0;
  for (let k = 0; k < SECTORS; k++) {
    const e = Math.min(pair(k), pair(k + SECTORS / 2));
    if (e === e) excess = Math.max(excess, e);
  }
  return excess / (peak - background);
}

interface AxisStart {
  centre: Vec3;
  direction: Vec3;
  first: Centred;
  /** The filament's contrast here: −1 dark, +1 bright. */
  polarity: -1 | 1;
}

/**
 * The contrast of the structure a radial profile is centred on: the sign of its largest departure
 * from the background (its outermost rings) within the largest radius looked for. The structure
 * dominates a profile centred on it, dark or bright.
 */
function profilePolarity(profile: Float32Array, maxRadius: number): -1 | 1 {
  const n = profile.length;
  const background = (profile[n - 1] + profile[n - 2] + profile[n - 3]) / 3;
  let best = 0;
  for (let r = 0; r <= Math.min(Math.ceil(maxRadius), n - 4); r++) if (Math.abs(profile[r] - background) > Math.abs(best)) best = profile[r] - background;
  return best < 0 ? -1 : 1;
}

/** A cross-section's outer radius may differ from the start's by this fraction (and a voxel). */
const RADIUS_TOLERANCE = 0.3;
/** A cross-section's contrast must be at least this fraction of the start's. */
const CONTRAST_FRACTION = 0.5;

/** A polarity-signed radial profile's peak over its background (its outermost rings). */
function amplitude(signed: Float32Array): number {
  const n = signed.length;
  const background = (signed[n - 1] + signed[n - 2] + signed[n - 3]) / 3;
  let peak = -Infinity;
  for (let r = 0; r < n - 3; r++) peak = Math.max(peak, signed[r]);
  return peak - background;
}

/** Axis starts tried per click: at a crossing the most symmetric cross-section can belong to the other filament. */
const STARTS_TRACED = 3;

/**
 * Candidate axis directions and centres at a click, most symmetric first, one per distinct centre
 * and direction (a cross-section that is symmetric about no centre the click lies near is dropped).
 */
export function axisStarts(tomogram: Volume, click: Vec3, polarity: number | undefined, opts: FilamentOptions, hints: readonly Vec3[] = []): AxisStart[] {
  const rings = ringsOf(Math.ceil(opts.maxRadius) + 4);
  const search = Math.ceil(opts.maxRadius);
  const starts: AxisStart[] = [];
  for (const direction of candidateDirections(tomogram, click, opts.maxRadius, hints)) {
    const img = samplePlane(tomogram, click, direction, search + rings.radius, FIRST_HALF_SLAB);
    const c = centreOnClick(img, search, rings, polarity, opts.maxRadius);
    if (c && c.symmetry > 0 && !sheetLike(img, c, c.polarity, opts.maxRadius)) starts.push({ centre: pixelToVoxel(img, click, c.i, c.j), direction, first: c, polarity: c.polarity });
  }
  starts.sort((a, b) => b.first.symmetry - a.first.symmetry);
  return starts.filter((s, k) => starts.findIndex((t) => norm(sub(s.centre, t.centre)) < 2 && Math.abs(dot(s.direction, t.direction)) > 0.9) === k);
}

/** Where a trace stands while following one direction. */
interface Step {
  centre: Vec3;
  profile: Float32Array;
  symmetry: number;
  /** sheetExcess of the cross-section (0 for gap points). */
  sheet: number;
}

function follow(tomogram: Volume, start: Vec3, direction: Vec3, reference: { profile: Float32Array; symmetry: number; radius: number; contrast: number }, polarity: number, rings: Rings, opts: FilamentOptions): Step[] {
  const [nz, ny, nx] = tomogram.shape;
  const accepted: Step[] = [];
  // The same slab as the first cross-section: symmetry and profile are compared with its.
  const halfSlab = FIRST_HALF_SLAB;
  const search = Math.max(2, Math.ceil(opts.step));
  const maxMisses = Math.max(1, Math.floor(opts.maxGap / opts.step));
  const maxSteps = Math.ceil((4 * (nz + ny + nx)) / opts.step);
  const baseline = Math.max(2, Math.ceil(8 / opts.step));
  let at = start, d = unit(direction), misses = 0;
  const pending: Vec3[] = [];
  for (let n = 0; n < maxSteps; n++) {
    const predicted = add(at, d, opts.step);
    if (predicted.x < 0 || predicted.y < 0 || predicted.z < 0 || predicted.x > nx - 1 || predicted.y > ny - 1 || predicted.z > nz - 1) break;
    const img = samplePlane(tomogram, predicted, d, search + rings.radius, halfSlab);
    const c = centreIn(img, search, rings);
    // A filament keeps its radius: cross-sections through a chain of particles grow and shrink.
    // … and its contrast: a particle smeared along the beam by the missing wedge fades along the smear.
    const signed = c.profile.map((v) => polarity * v);
    const radius = halfMaximumRadii(signed, rings.radius).outer;
    const contrast = amplitude(signed);
    const ok =
      c.symmetry >= opts.minSymmetryFraction * reference.symmetry &&
      pearson(c.profile, reference.profile) >= opts.minProfileCorrelation &&
      Math.abs(radius - reference.radius) <= RADIUS_TOLERANCE * reference.radius + 1 &&
      contrast >= CONTRAST_FRACTION * reference.contrast;
    if (!ok) {
      if (++misses > maxMisses) break;
      pending.push(predicted);
      at = predicted;
      continue;
    }
    const centre = pixelToVoxel(img, predicted, c.i, c.j);
    // A gap stepped over joins the filament once the far side is found.
    for (const p of pending) accepted.push({ centre: p, profile: c.profile, symmetry: 0, sheet: 0 });
    pending.length = 0;
    misses = 0;
    accepted.push({ centre, profile: c.profile, symmetry: c.symmetry, sheet: sheetExcess(img, c.i, c.j, signed, reference.radius, polarity) });
    const back = accepted.length > baseline ? accepted[accepted.length - 1 - baseline].centre : start;
    const heading = sub(centre, back);
    if (norm(heading) > 0 && dot(heading, d) > 0) d = unit(add(d, unit(heading)));
    at = centre;
  }
  return accepted;
}

/** Half-maximum radii of a radial profile about its peak (background: its outermost rings). */
function halfMaximumRadii(profile: Float32Array, maxRadius: number): { inner: number; outer: number } {
  const n = profile.length;
  let background = 0;
  for (let r = n - 3; r < n; r++) background += profile[r];
  background /= 3;
  let peak = 0;
  for (let r = 1; r <= Math.min(maxRadius, n - 1); r++) if (profile[r] > profile[peak]) peak = r;
  const half = background + 0.5 * (profile[peak] - background);
  let outer = peak;
  while (outer + 1 < n && profile[outer + 1] >= half) outer++;
  // Linear crossing between outer and outer + 1.
  const o = outer + 1 < n ? outer + (profile[outer] - half) / Math.max(1e-9, profile[outer] - profile[outer + 1]) : outer;
  let inner = 0;
  if (profile[0] < half) {
    let r = peak;
    while (r > 0 && profile[r - 1] >= half) r--;
    inner = r > 0 ? r - (profile[r] - half) / Math.max(1e-9, profile[r] - profile[r - 1]) : 0;
  }
  return { inner: Math.max(0, inner), outer: Math.max(1, o) };
}

/**
 * Traces the filament through `click`: its axis both ways from the clicked cross-section, and its
 * radii. `polarity` is the filament's contrast (−1 dark, +1 bright; undefined: read off each
 * start's radial profile); `hints` are directions worth
 * trying first (e.g. the elongation of the clicked slices' masks). Undefined when nothing is found.
 */
export function traceFilament(tomogram: Volume, click: VoxelPoint, polarity: -1 | 1 | undefined, opts: FilamentOptions, hints: readonly Vec3[] = []): FilamentTrace | undefined {
  let best: FilamentTrace | undefined;
  for (const start of axisStarts(tomogram, click, polarity, opts, hints).slice(0, STARTS_TRACED)) {
    const trace = traceFrom(tomogram, start, opts);
    // Length weighed by how filament-like the cross-sections are: a ridge along a tube's wall can run as long as the tube.
    if (!best || trace.lengthVoxels * trace.symmetry > best.lengthVoxels * best.symmetry) best = trace;
  }
  return best;
}

/** The trace both ways from one axis start, and the filament's radii from its mean radial profile. */
function traceFrom(tomogram: Volume, found: AxisStart, opts: FilamentOptions): FilamentTrace {
  const { polarity } = found;
  // Cross-sections are followed out to twice the start's outer radius (and a margin), not the
  // largest radius looked for: a thin filament passing a thick one is then not lost for the whole
  // length over which the thick one lies within that radius.
  const startRadius = halfMaximumRadii(found.first.profile.map((v) => polarity * v), Math.ceil(opts.maxRadius)).outer;
  const rings = ringsOf(Math.min(Math.ceil(opts.maxRadius) + 4, Math.ceil(2 * startRadius) + 4));
  const start = samplePlane(tomogram, found.centre, found.direction, rings.radius, FIRST_HALF_SLAB);
  const profileAt = new Float64Array(rings.radius + 1);
  const symmetry = radialSymmetry(start, rings.radius, rings.radius, rings, profileAt, new Float64Array(rings.radius + 1));
  const first = { profile: Float32Array.from(profileAt), symmetry };
  const signed = first.profile.map((v) => polarity * v);
  const reference = { ...first, radius: halfMaximumRadii(signed, rings.radius).outer, contrast: amplitude(signed) };
  const forward = follow(tomogram, found.centre, found.direction, reference, polarity, rings, opts);
  const backward = follow(tomogram, found.centre, { x: -found.direction.x, y: -found.direction.y, z: -found.direction.z }, reference, polarity, rings, opts);
  const steps: Step[] = [...backward.reverse(), { centre: found.centre, ...first, sheet: sheetExcess(start, rings.radius, rings.radius, signed, reference.radius, polarity) }, ...forward];
  const measured = steps.filter((s) => s.symmetry > 0);
  const profile = new Float32Array(rings.radius + 1);
  for (const s of measured) for (let r = 0; r < profile.length; r++) profile[r] += (polarity * s.profile[r]) / measured.length;
  const { inner, outer } = halfMaximumRadii(profile, Math.ceil(opts.maxRadius));
  const axis = steps.map((s) => s.centre);
  let lengthVoxels = 0;
  for (let k = 1; k < axis.length; k++) lengthVoxels += norm(sub(axis[k], axis[k - 1]));
  return { axis, innerRadius: inner, outerRadius: outer, lengthVoxels, symmetry: measured.reduce((a, s) => a + s.symmetry, 0) / measured.length, profile, measuredFraction: measured.length / steps.length, polarity, sheetness: measured.reduce((a, s) => a + s.sheet, 0) / measured.length };
}

/** The tube of the traced filament as a mask: voxels between its inner and outer radius of the axis. */
export function filamentMask(trace: FilamentTrace, shape: Shape3): ParticleMask {
  const [nz, ny, nx] = shape;
  const R = trace.outerRadius + 0.5, r = trace.innerRadius > 0 ? trace.innerRadius - 0.5 : -1;
  const lo = { x: Infinity, y: Infinity, z: Infinity }, hi = { x: -Infinity, y: -Infinity, z: -Infinity };
  for (const p of trace.axis) {
    lo.x = Math.min(lo.x, p.x); lo.y = Math.min(lo.y, p.y); lo.z = Math.min(lo.z, p.z);
    hi.x = Math.max(hi.x, p.x); hi.y = Math.max(hi.y, p.y); hi.z = Math.max(hi.z, p.z);
  }
  const bbox = {
    z0: Math.max(0, Math.floor(lo.z - R)), z1: Math.min(nz, Math.ceil(hi.z + R) + 1),
    y0: Math.max(0, Math.floor(lo.y - R)), y1: Math.min(ny, Math.ceil(hi.y + R) + 1),
    x0: Math.max(0, Math.floor(lo.x - R)), x1: Math.min(nx, Math.ceil(hi.x + R) + 1),
  };
  const by = bbox.y1 - bbox.y0, bx = bbox.x1 - bbox.x0;
  const mask = new Uint8Array((bbox.z1 - bbox.z0) * by * bx);
  const segments = trace.axis.length === 1 ? [[trace.axis[0], trace.axis[0]]] : trace.axis.slice(1).map((b, k) => [trace.axis[k], b]);
  for (const [a, b] of segments) {
    const ab = sub(b, a);
    const len2 = dot(ab, ab);
    // Flat ends a voxel past each point (closing the seams where the axis bends); a rounded, clamped end would mark the lumen past it as wall.
    const slack = len2 > 0 ? 1 / Math.sqrt(len2) : 0;
    for (let z = Math.max(bbox.z0, Math.floor(Math.min(a.z, b.z) - R)); z <= Math.min(bbox.z1 - 1, Math.ceil(Math.max(a.z, b.z) + R)); z++) {
      for (let y = Math.max(bbox.y0, Math.floor(Math.min(a.y, b.y) - R)); y <= Math.min(bbox.y1 - 1, Math.ceil(Math.max(a.y, b.y) + R)); y++) {
        for (let x = Math.max(bbox.x0, Math.floor(Math.min(a.x, b.x) - R)); x <= Math.min(bbox.x1 - 1, Math.ceil(Math.max(a.x, b.x) + R)); x++) {
          const ap = { x: x - a.x, y: y - a.y, z: z - a.z };
          const t = len2 > 0 ? dot(ap, ab) / len2 : 0;
          if (t < -slack || t > 1 + slack) continue;
          const dist = norm(sub(ap, { x: t * ab.x, y: t * ab.y, z: t * ab.z }));
          if (dist <= R && dist >= r) mask[((z - bbox.z0) * by + (y - bbox.y0)) * bx + (x - bbox.x0)] = 1;
        }
      }
    }
  }
  return fromBoxMask(bbox, mask);
}
