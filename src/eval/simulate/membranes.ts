/**
 * Membranes with exact ground truth: flat sheets (a slab through the tomogram at a random
 * orientation, optionally bounded to a disc), curved sheets (the part of a large sphere or
 * cylinder inside the tomogram) and the vesicles drawn by shapes.ts. Each is a surface thickened
 * to the membrane's thickness, anti-aliased like the vesicles; a voxel is in its truth where the
 * coverage is ≥ 0.5. A truth voxel is "measured" when the tilt series sampled the Fourier
 * direction of the membrane's local normal: a sheet's Fourier content lies along its normal, so a
 * membrane seen face-on (normal along the beam) falls in the missing wedge and vanishes.
 */
import type { TransferFunction } from '../../volume/fourier.js';
import type { Shape3 } from '../../volume/volume.js';
import { dot, randomPerpendicular, randomPoint, randomUnit, type Vec3 } from './geometry.js';
import type { Ball } from './place.js';
import type { Rng } from './rng.js';
import type { StructureVolumes } from './scene.js';

/** Value of membrane voxels in the structure label volume. */
export const MEMBRANE_LABEL = 2;

/** Spatial frequency (cycles/voxel) at which a normal's direction is looked up in the tilt series' transfer. */
export const MEASURED_FREQUENCY = 0.25;

export type MembraneKind = 'vesicle' | 'flat' | 'curved';

/** The mid-surface of a membrane, in voxels (x, y, z). */
export type MembraneSurface =
  | { type: 'sphere'; centre: Vec3; radius: number }
  | { type: 'plane'; point: Vec3; normal: Vec3; /** Disc radius; null: unbounded. */ patchRadius: number | null }
  | { type: 'cylinder'; /** A point of the axis. */ centre: Vec3; axis: Vec3; radius: number };

export interface SimulatedMembrane {
  /** Structure id (its value in the structure instance volume). */
  id: number;
  kind: MembraneKind;
  /** Thickness of the slab in voxels. */
  thickness: number;
  surface: MembraneSurface;
  /** Truth voxels, and those of them whose normal the tilt series measured. */
  voxels: number;
  measuredVoxels: number;
}

/** Distance from (x, y, z) to the mid-surface, in voxels (to the disc for a bounded plane). */
export function surfaceDistance(s: MembraneSurface, x: number, y: number, z: number): number {
  switch (s.type) {
    case 'sphere':
      return Math.abs(Math.hypot(x - s.centre[0], y - s.centre[1], z - s.centre[2]) - s.radius);
    case 'plane': {
      const w: Vec3 = [x - s.point[0], y - s.point[1], z - s.point[2]];
      const h = dot(w, s.normal);
      if (s.patchRadius === null) return Math.abs(h);
      const inPlane = Math.sqrt(Math.max(0, dot(w, w) - h * h));
      return Math.hypot(h, Math.max(0, inPlane - s.patchRadius));
    }
    case 'cylinder': {
      const w: Vec3 = [x - s.centre[0], y - s.centre[1], z - s.centre[2]];
      const a = dot(w, s.axis);
      return Math.abs(Math.sqrt(Math.max(0, dot(w, w) - a * a)) - s.radius);
    }
  }
}

/** Unit normal of the mid-surface at (or nearest to) (x, y, z); `out` receives it. */
export function surfaceNormal(s: MembraneSurface, x: number, y: number, z: number, out: Vec3 = [0, 0, 0]): Vec3 {
  let w: Vec3;
  if (s.type === 'plane') {
    w = s.normal;
  } else if (s.type === 'sphere') {
    w = [x - s.centre[0], y - s.centre[1], z - s.centre[2]];
  } else {
    const d: Vec3 = [x - s.centre[0], y - s.centre[1], z - s.centre[2]];
    const a = dot(d, s.axis);
    w = [d[0] - a * s.axis[0], d[1] - a * s.axis[1], d[2] - a * s.axis[2]];
  }
  const n = Math.hypot(w[0], w[1], w[2]) || 1;
  out[0] = w[0] / n;
  out[1] = w[1] / n;
  out[2] = w[2] / n;
  return out;
}

/** The point of the mid-surface nearest to (x, y, z); undefined outside a bounded plane's disc. */
export function projectOnSurface(s: MembraneSurface, p: Vec3): Vec3 | undefined {
  const origin = s.type === 'plane' ? s.point : s.centre;
  const w: Vec3 = [p[0] - origin[0], p[1] - origin[1], p[2] - origin[2]];
  if (s.type === 'plane') {
    const h = dot(w, s.normal);
    const q: Vec3 = [p[0] - h * s.normal[0], p[1] - h * s.normal[1], p[2] - h * s.normal[2]];
    if (s.patchRadius !== null && Math.hypot(q[0] - s.point[0], q[1] - s.point[1], q[2] - s.point[2]) > s.patchRadius) return undefined;
    return q;
  }
  const n = surfaceNormal(s, p[0], p[1], p[2]);
  const along = s.type === 'cylinder' ? dot(w, s.axis) : 0;
  const base: Vec3 = s.type === 'cylinder' ? [s.centre[0] + along * s.axis[0], s.centre[1] + along * s.axis[1], s.centre[2] + along * s.axis[2]] : s.centre;
  return [base[0] + s.radius * n[0], base[1] + s.radius * n[1], base[2] + s.radius * n[2]];
}

/**
 * A random sheet surface through the central half of the tomogram: a plane at a uniformly random
 * orientation ('flat'), or a sphere or cylinder (even odds) of `radius` passing through a random
 * point with a random normal ('curved').
 */
export function planSheet(
  kind: 'flat' | 'curved',
  radius: number,
  patchRadius: number | null,
  shape: Shape3,
  rng: Rng,
  /** Stack on another sheet: the normal within ±20° of this one (random orientation when absent). */
  near?: Vec3,
): MembraneSurface {
  const [nz, ny, nx] = shape;
  const point = randomPoint(shape, rng, Math.min(nz, ny, nx) / 4);
  const normal = near ? tilted(near, (rng.range(0, STACK_MAX_DEG) * Math.PI) / 180, rng) : randomUnit(rng);
  if (kind === 'flat') return { type: 'plane', point, normal, patchRadius };
  const centre: Vec3 = [point[0] - radius * normal[0], point[1] - radius * normal[1], point[2] - radius * normal[2]];
  if (rng.uniform() < 0.5) return { type: 'sphere', centre, radius };
  return { type: 'cylinder', centre, axis: randomPerpendicular(normal, rng), radius };
}

/** Largest angle between the normals of stacked sheets, degrees. */
const STACK_MAX_DEG = 20;

/** `a` turned by `angle` radians towards a random perpendicular. */
function tilted(a: Vec3, angle: number, rng: Rng): Vec3 {
  const p = randomPerpendicular(a, rng);
  const c = Math.cos(angle), s = Math.sin(angle);
  return [c * a[0] + s * p[0], c * a[1] + s * p[1], c * a[2] + s * p[2]];
}

/** Whether the tilt series measured a membrane with this normal (always, without a wedge). */
export function normalMeasured(wedge: TransferFunction | undefined, n: Vec3): boolean {
  if (!wedge) return true;
  const f = MEASURED_FREQUENCY;
  return wedge(f * n[2], f * n[1], f * n[0]) > 0.5;
}

/**
 * Adds a sheet's density to `target` (skipped when null, for the vesicles that shapes.ts drew) and
 * marks its truth voxels and their measured flags. Returns the counts of both.
 */
export function drawMembrane(
  membrane: Omit<SimulatedMembrane, 'voxels' | 'measuredVoxels'>,
  density: number,
  target: Float32Array | null,
  shape: Shape3,
  truth: StructureVolumes,
  wedge: TransferFunction | undefined,
): { voxels: number; measuredVoxels: number } {
  const [nz, ny, nx] = shape;
  const s = membrane.surface;
  const halfThickness = membrane.thickness / 2;
  // Vesicles: the same box and arithmetic as drawSphericalShell, so the truth is exactly its coverage.
  let [z0, z1, y0, y1, x0, x1] = [0, nz - 1, 0, ny - 1, 0, nx - 1];
  if (s.type === 'sphere') {
    const outer = s.radius + halfThickness + 0.5;
    const [cx, cy, cz] = s.centre;
    (z0 = Math.max(0, Math.floor(cz - outer))), (z1 = Math.min(nz - 1, Math.ceil(cz + outer)));
    (y0 = Math.max(0, Math.floor(cy - outer))), (y1 = Math.min(ny - 1, Math.ceil(cy + outer)));
    (x0 = Math.max(0, Math.floor(cx - outer))), (x1 = Math.min(nx - 1, Math.ceil(cx + outer)));
  }
  const planeMeasured = s.type === 'plane' ? normalMeasured(wedge, s.normal) : false;
  const n: Vec3 = [0, 0, 0];
  let voxels = 0;
  let measuredVoxels = 0;
  for (let z = z0; z <= z1; z++) {
    for (let y = y0; y <= y1; y++) {
      const row = (z * ny + y) * nx;
      for (let x = x0; x <= x1; x++) {
        let d: number;
        if (s.type === 'sphere') {
          const dzy2 = (z - s.centre[2]) ** 2 + (y - s.centre[1]) ** 2;
          d = Math.abs(Math.sqrt(dzy2 + (x - s.centre[0]) ** 2) - s.radius);
        } else {
          d = surfaceDistance(s, x, y, z);
        }
        const cover = halfThickness + 0.5 - d;
        if (cover <= 0) continue;
        const index = row + x;
        if (target) target[index] += density * Math.min(1, cover);
        if (cover < 0.5) continue;
        truth.labels.data[index] = MEMBRANE_LABEL;
        truth.instances.data[index] = membrane.id;
        voxels++;
        const measured = s.type === 'plane' ? planeMeasured : normalMeasured(wedge, surfaceNormal(s, x, y, z, n));
        truth.measured[index] = measured ? 1 : 0;
        if (measured) measuredVoxels++;
      }
    }
  }
  return { voxels, measuredVoxels };
}

/** Whether a sheet keeps `gap` voxels clear of every ball (vesicles, gold). */
export function clearOfBalls(s: MembraneSurface, halfThickness: number, balls: readonly Ball[], gap: number): boolean {
  return balls.every((b) => surfaceDistance(s, b.x, b.y, b.z) - halfThickness >= b.radius + gap);
}

/**
 * Whether two sheets come within `gap` of each other inside the tomogram, tested on a grid of
 * `step` voxels (the slabs are widened by a step so the coarse grid cannot miss a crossing).
 */
export function sheetsMeet(a: MembraneSurface, b: MembraneSurface, halfThickness: number, gap: number, shape: Shape3, step: number): boolean {
  const [nz, ny, nx] = shape;
  const reach = halfThickness + gap / 2 + step;
  for (let z = 0; z < nz; z += step) {
    for (let y = 0; y < ny; y += step) {
      for (let x = 0; x < nx; x += step) {
        if (surfaceDistance(a, x, y, z) <= reach && surfaceDistance(b, x, y, z) <= reach) return true;
      }
    }
  }
  return false;
}

/** Centre of a ball of `radius` touching a sheet's surface near `p` on a random side; undefined off a bounded disc. */
export function touchingCentre(s: MembraneSurface, halfThickness: number, radius: number, p: Vec3, rng: Rng): Vec3 | undefined {
  const q = projectOnSurface(s, p);
  if (!q) return undefined;
  const n = surfaceNormal(s, q[0], q[1], q[2]);
  // Just over touching, so rounding cannot make the ball overlap the slab.
  const d = (rng.uniform() < 0.5 ? -1 : 1) * (halfThickness + radius + 0.01);
  return [q[0] + d * n[0], q[1] + d * n[1], q[2] + d * n[2]];
}
