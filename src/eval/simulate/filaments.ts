/**
 * Filaments with exact ground truth: microtubule-like hollow tubes (a ring of 13 or 14
 * protofilament rods, 25 nm outer and 15 nm inner diameter, with a weak 4 nm / 8 nm axial
 * modulation of the tubulin monomers and dimers) and actin-like solid filaments (7 nm). Each runs
 * along a straight line or a circular arc (radius of curvature ≥ 100 nm, at most 90° of turn), in a
 * random direction, and is clipped where its axis leaves the tomogram, so the truth axis is exactly
 * the part drawn. Edges are anti-aliased as the vesicles' (linear over one voxel); a voxel belongs
 * to a filament's truth where its coverage is ≥ 0.5.
 */
import type { Shape3 } from '../../volume/volume.js';
import { cross, dot, normalize, randomPerpendicular, randomPoint, randomUnit, type Vec3 } from './geometry.js';
import type { Rng } from './rng.js';
import type { StructureVolumes } from './scene.js';

/** Value of filament voxels in the structure label volume. */
export const FILAMENT_LABEL = 1;

/** Spacing of the axis points, in voxels (≤ 1, so a polyline through them follows the drawn axis). */
export const AXIS_STEP = 0.5;

/** Smallest radius of curvature of a curved filament, in nm (microtubules are stiff). */
export const MIN_CURVATURE_RADIUS_NM = 100;

/** Tube geometry in nm: protofilament rods on a 10 nm circle, 2.5 nm thick, make the 7.5–12.5 nm wall. */
const MICROTUBULE_NM = { rodCircle: 10, rodRadius: 2.5 };
const ACTIN_RADIUS_NM = 3.5;
/** Axial modulation of the microtubule wall: tubulin monomers (4 nm) and αβ dimers (8 nm). */
const MICROTUBULE_MODULATION = [
  { periodNm: 4, amplitude: 0.1 },
  { periodNm: 8, amplitude: 0.05 },
];
/** Fraction of filaments running nearly in the xy plane (within ±10°), as in most cellular tomograms. */
const IN_PLANE_FRACTION = 0.5;
const IN_PLANE_MAX_DEG = 10;
/** A filament whose part inside the tomogram is shorter than this fraction of its length is redrawn. */
const MIN_INSIDE_FRACTION = 0.25;

export type FilamentKind = 'microtubule' | 'actin';

export interface SimulatedFilament {
  /** Structure id (its value in the structure instance volume). */
  id: number;
  kind: FilamentKind;
  /** Protofilaments of a microtubule (13 or 14); 0 for actin. */
  protofilaments: number;
  /** Axis polyline in voxels: x, y, z of each point in turn, AXIS_STEP apart, all inside the tomogram. */
  axis: Float64Array;
  /** Wall between these distances from the axis, in voxels (inner 0 for a solid filament). */
  innerRadius: number;
  outerRadius: number;
  /** Length of the axis polyline, in voxels. */
  length: number;
  /** Radius of curvature of the arc in voxels; null for a straight filament. */
  curvatureRadius: number | null;
}

/** How a filament is drawn (kept out of the truth). */
interface FilamentModel {
  filament: SimulatedFilament;
  /** Rotation of the protofilament ring about the axis, radians. */
  phase: number;
  /** Rod circle and rod radius in voxels (microtubules). */
  rodCircle: number;
  rodRadius: number;
  modulation: { period: number; amplitude: number }[];
}

/** Planned filament: its truth and how to draw it. */
export type PlannedFilament = FilamentModel;

/** Radii of a filament kind, in voxels. */
export function filamentRadii(kind: FilamentKind, voxelsPerNm: number): { inner: number; outer: number } {
  if (kind === 'actin') return { inner: 0, outer: ACTIN_RADIUS_NM * voxelsPerNm };
  return {
    inner: (MICROTUBULE_NM.rodCircle - MICROTUBULE_NM.rodRadius) * voxelsPerNm,
    outer: (MICROTUBULE_NM.rodCircle + MICROTUBULE_NM.rodRadius) * voxelsPerNm,
  };
}

/**
 * Draws a random filament path: a centre inside the tomogram, a direction (half nearly in the xy
 * plane, half uniform), a straight line or an arc of `lengthVoxels`, clipped to the run of axis
 * points inside the tomogram that holds the centre. Undefined when too little of it is inside.
 */
export function planFilament(
  id: number,
  kind: FilamentKind,
  lengthVoxels: number,
  curved: boolean,
  voxelsPerNm: number,
  shape: Shape3,
  rng: Rng,
): PlannedFilament | undefined {
  const { inner, outer } = filamentRadii(kind, voxelsPerNm);
  const protofilaments = kind === 'microtubule' ? (rng.uniform() < 0.5 ? 13 : 14) : 0;
  const phase = rng.range(0, 2 * Math.PI);
  let direction: Vec3;
  const inPlane = rng.uniform() < IN_PLANE_FRACTION;
  if (inPlane) {
    const elevation = (rng.range(-IN_PLANE_MAX_DEG, IN_PLANE_MAX_DEG) * Math.PI) / 180;
    const azimuth = rng.range(0, 2 * Math.PI);
    direction = [Math.cos(elevation) * Math.cos(azimuth), Math.cos(elevation) * Math.sin(azimuth), Math.sin(elevation)];
  } else {
    direction = randomUnit(rng);
  }
  const centre = randomPoint(shape, rng, outer + 1);
  let bend: Vec3 = [0, 0, 0];
  let radius: number | null = null;
  if (curved) {
    // In-plane filaments bend in the plane; the others about a random perpendicular.
    bend = inPlane ? normalize(cross(direction, [0, 0, rng.uniform() < 0.5 ? 1 : -1])) : randomPerpendicular(direction, rng);
    // At most 90° of turn over the full length, and never tighter than the minimum radius.
    const lo = Math.max(MIN_CURVATURE_RADIUS_NM * voxelsPerNm, lengthVoxels / (Math.PI / 2));
    radius = rng.range(lo, 2 * lo);
  }
  const half = Math.floor(lengthVoxels / 2 / AXIS_STEP);
  const point = (i: number): Vec3 => {
    const s = i * AXIS_STEP;
    if (radius === null) return [centre[0] + s * direction[0], centre[1] + s * direction[1], centre[2] + s * direction[2]];
    const a = Math.sin(s / radius) * radius;
    const b = (1 - Math.cos(s / radius)) * radius;
    return [
      centre[0] + a * direction[0] + b * bend[0],
      centre[1] + a * direction[1] + b * bend[1],
      centre[2] + a * direction[2] + b * bend[2],
    ];
  };
  const [nz, ny, nx] = shape;
  const inside = (p: Vec3) => p[0] >= 0 && p[0] <= nx - 1 && p[1] >= 0 && p[1] <= ny - 1 && p[2] >= 0 && p[2] <= nz - 1;
  let first = 0;
  while (first > -half && inside(point(first - 1))) first--;
  let last = 0;
  while (last < half && inside(point(last + 1))) last++;
  const count = last - first + 1;
  if ((count - 1) * AXIS_STEP < MIN_INSIDE_FRACTION * lengthVoxels) return undefined;
  const axis = new Float64Array(3 * count);
  for (let i = first; i <= last; i++) axis.set(point(i), 3 * (i - first));
  return {
    filament: {
      id,
      kind,
      protofilaments,
      axis,
      innerRadius: inner,
      outerRadius: outer,
      length: (count - 1) * AXIS_STEP,
      curvatureRadius: radius,
    },
    phase,
    rodCircle: MICROTUBULE_NM.rodCircle * voxelsPerNm,
    rodRadius: MICROTUBULE_NM.rodRadius * voxelsPerNm,
    // Periods under 3 voxels would alias: left out at coarse voxel sizes.
    modulation:
      kind === 'microtubule'
        ? MICROTUBULE_MODULATION.map((m) => ({ period: m.periodNm * voxelsPerNm, amplitude: m.amplitude })).filter((m) => m.period >= 3)
        : [],
  };
}

/** Unit tangents of a polyline (central differences), x, y, z per point. */
export function polylineTangents(axis: Float64Array): Float64Array {
  const n = axis.length / 3;
  const t = new Float64Array(axis.length);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - 1), b = Math.min(n - 1, i + 1);
    const d = normalize([axis[3 * b] - axis[3 * a], axis[3 * b + 1] - axis[3 * a + 1], axis[3 * b + 2] - axis[3 * a + 2]]);
    t.set(d, 3 * i);
  }
  return t;
}

/** Growable list of voxel indices. */
class IndexList {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
}

/**
 * Adds a filament's density to `target` and marks its truth. Every voxel takes the largest
 * coverage any axis point gives it (neighbouring cross-sections overlap slightly on curves), so
 * the density is that of one tube, never doubled. `scratch` is a zeroed volume-sized buffer, left zeroed.
 */
export function drawFilament(
  planned: PlannedFilament,
  density: number,
  target: Float32Array,
  shape: Shape3,
  truth: StructureVolumes,
  scratch: Float32Array,
): void {
  const { filament, phase, rodCircle, rodRadius, modulation } = planned;
  const { axis, outerRadius, id } = filament;
  const [nz, ny, nx] = shape;
  const n = axis.length / 3;
  const tangents = polylineTangents(axis);
  // Parallel-transported frame, so the protofilament ring does not twist along a curve.
  let u: Vec3 = normalize(cross([tangents[0], tangents[1], tangents[2]], Math.abs(tangents[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0]));
  // Half-width of a cross-section slab: widened on curves so the slabs leave no gap at the outer wall.
  const slack = filament.curvatureRadius === null ? 0 : (outerRadius + 1) / filament.curvatureRadius;
  const halfWidth = 0.5 * AXIS_STEP * (1 + slack) + 1e-9;
  const reach = outerRadius + 0.5;
  const rods = filament.protofilaments;
  const rodAngle = rods > 0 ? (2 * Math.PI) / rods : 0;
  const touched = new IndexList();
  for (let i = 0; i < n; i++) {
    const ax = axis[3 * i], ay = axis[3 * i + 1], az = axis[3 * i + 2];
    const t: Vec3 = [tangents[3 * i], tangents[3 * i + 1], tangents[3 * i + 2]];
    const along0 = dot(u, t);
    u = normalize([u[0] - along0 * t[0], u[1] - along0 * t[1], u[2] - along0 * t[2]]);
    const v = cross(t, u);
    const s0 = i * AXIS_STEP;
    const z0 = Math.max(0, Math.floor(az - reach)), z1 = Math.min(nz - 1, Math.ceil(az + reach));
    const y0 = Math.max(0, Math.floor(ay - reach)), y1 = Math.min(ny - 1, Math.ceil(ay + reach));
    const x0 = Math.max(0, Math.floor(ax - reach)), x1 = Math.min(nx - 1, Math.ceil(ax + reach));
    for (let z = z0; z <= z1; z++) {
      const wz = z - az;
      for (let y = y0; y <= y1; y++) {
        const wy = y - ay;
        const row = (z * ny + y) * nx;
        for (let x = x0; x <= x1; x++) {
          const wx = x - ax;
          const along = wx * t[0] + wy * t[1] + wz * t[2];
          if (along > halfWidth || along < -halfWidth) continue;
          const p = wx * u[0] + wy * u[1] + wz * u[2];
          const q = wx * v[0] + wy * v[1] + wz * v[2];
          const rho = Math.sqrt(p * p + q * q);
          let cover: number;
          if (rods === 0) {
            cover = Math.min(1, outerRadius + 0.5 - rho);
          } else {
            if (rho > rodCircle + rodRadius + 0.5 || rho < rodCircle - rodRadius - 0.5) continue;
            // The two nearest rods of the ring.
            const phi = Math.atan2(q, p) - phase;
            const k = Math.floor(phi / rodAngle);
            const d1 = rodDistance(rho, phi - k * rodAngle, rodCircle);
            const d2 = rodDistance(rho, phi - (k + 1) * rodAngle, rodCircle);
            cover = Math.min(1, rodRadius + 0.5 - Math.min(d1, d2));
          }
          if (cover <= 0) continue;
          let value = cover;
          if (modulation.length > 0) {
            const s = s0 + along;
            let m = 1;
            for (const { period, amplitude } of modulation) m += amplitude * Math.cos((2 * Math.PI * s) / period);
            value *= m;
          }
          const index = row + x;
          if (scratch[index] === 0) touched.push(index);
          if (value > scratch[index]) scratch[index] = value;
          if (cover >= 0.5) {
            truth.labels.data[index] = FILAMENT_LABEL;
            truth.instances.data[index] = id;
          }
        }
      }
    }
  }
  for (let k = 0; k < touched.length; k++) {
    const index = touched.data[k];
    target[index] += density * scratch[index];
    scratch[index] = 0;
  }
}

/** Distance from a point at (rho, angle) to a rod centre on the circle of radius `circle` at angle 0. */
function rodDistance(rho: number, angle: number, circle: number): number {
  return Math.sqrt(Math.max(0, rho * rho + circle * circle - 2 * rho * circle * Math.cos(angle)));
}

/**
 * Distance from points to a polyline's points (AXIS_STEP apart, so within AXIS_STEP / 2 of the
 * true distance), with whole chunks of the polyline skipped by their bounding spheres.
 */
export class PolylineDistance {
  private static readonly CHUNK = 32;
  private readonly centres: Float64Array;
  private readonly radii: Float64Array;

  constructor(private readonly axis: Float64Array) {
    const n = axis.length / 3;
    const chunks = Math.ceil(n / PolylineDistance.CHUNK);
    this.centres = new Float64Array(3 * chunks);
    this.radii = new Float64Array(chunks);
    for (let c = 0; c < chunks; c++) {
      const a = c * PolylineDistance.CHUNK, b = Math.min(n, a + PolylineDistance.CHUNK);
      let sx = 0, sy = 0, sz = 0;
      for (let i = a; i < b; i++) (sx += axis[3 * i]), (sy += axis[3 * i + 1]), (sz += axis[3 * i + 2]);
      const m = b - a;
      this.centres.set([sx / m, sy / m, sz / m], 3 * c);
      let r2 = 0;
      for (let i = a; i < b; i++) {
        r2 = Math.max(r2, (axis[3 * i] - sx / m) ** 2 + (axis[3 * i + 1] - sy / m) ** 2 + (axis[3 * i + 2] - sz / m) ** 2);
      }
      this.radii[c] = Math.sqrt(r2);
    }
  }

  /** Distance from (x, y, z) to the nearest axis point, in voxels. */
  distance(x: number, y: number, z: number): number {
    const n = this.axis.length / 3;
    let best = Infinity;
    for (let c = 0; c < this.radii.length; c++) {
      const dc = Math.hypot(x - this.centres[3 * c], y - this.centres[3 * c + 1], z - this.centres[3 * c + 2]);
      if (dc - this.radii[c] >= best) continue;
      const a = c * PolylineDistance.CHUNK, b = Math.min(n, a + PolylineDistance.CHUNK);
      for (let i = a; i < b; i++) {
        const d = Math.hypot(x - this.axis[3 * i], y - this.axis[3 * i + 1], z - this.axis[3 * i + 2]);
        if (d < best) best = d;
      }
    }
    return best;
  }
}
