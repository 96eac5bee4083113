/**
 * A pick's masks, after the template cut (stage 5, added by cryosam): each kept particle's 3D mask
 * drawn from the self-template average instead of its own segmentation. One particle's slice masks follow its noise, its missing
 * wedge and where it was clicked; the average of the best-aligned particles (template-cut.ts) shows
 * the particle's shape with the noise averaged out. The average's shape is thresholded once, then
 * turned into every particle's frame by that particle's alignment and placed at its density centre.
 * How the threshold was chosen, and what the masks gained: docs/defaults.md "Masks from the average".
 */
import { sampleTrilinear } from '../volume/interpolate.js';
import type { Shape3, Volume } from '../volume/volume.js';
import { DEFAULTS } from './defaults.js';
import { fromBoxMask, withoutOverlaps } from './instance.js';
import type { Matrix3 } from './rotations.js';
import type { Instance, ParticleMask, VoxelPoint } from './types.js';

/** The self-template average (SelfTemplateResult.average): a cube of `size` samples `stride` voxels apart. */
export interface AverageBox {
  data: Float32Array;
  size: number;
  stride: number;
}

/** The particle's shape in the average's frame: where `field` (polarity-signed density) is above `threshold`. */
export interface AverageShape {
  field: Volume;
  threshold: number;
  stride: number;
  /** Radius in voxels beyond which no voxel is in the shape. */
  radiusVoxels: number;
  /** Voxels inside the shape (at the tomogram's sampling). */
  voxels: number;
}

/**
 * The particle's shape in the average: the samples above the edge level (DEFAULTS.averageMask.level
 * of the way from the background, the median beyond 1.5 equivalent radii, to the core, the mean
 * within half a radius), within DEFAULTS.averageMask.radiusFactor radii of the centre, connected to
 * the centre. The field outside that component is lowered to the box's minimum, so that a neighbour
 * averaged in at the box's edge never enters a mask. Undefined when the core is not above the background.
 */
export function averageShape(average: AverageBox, polarity: 1 | -1, equivalentRadius: number): AverageShape | undefined {
  const { size, stride } = average;
  const half = (size - 1) / 2;
  const radiusVoxels = DEFAULTS.averageMask.radiusFactor * equivalentRadius;
  const field = Float32Array.from(average.data, (v) => polarity * v);
  const distance = (k: number) => {
    const x = k % size, y = Math.floor(k / size) % size, z = Math.floor(k / (size * size));
    return Math.hypot(z - half, y - half, x - half) * stride;
  };
  let core = 0, coreSamples = 0;
  const background: number[] = [];
  for (let k = 0; k < field.length; k++) {
    const d = distance(k);
    if (d <= 0.5 * equivalentRadius) (core += field[k]), coreSamples++;
    else if (d >= 1.5 * equivalentRadius && d <= half * stride) background.push(field[k]);
  }
  if (coreSamples === 0 || background.length === 0) return undefined;
  core /= coreSamples;
  background.sort((a, b) => a - b);
  const level = background[Math.floor(background.length / 2)];
  if (!(core > level)) return undefined;
  const threshold = level + DEFAULTS.averageMask.level * (core - level);
  // The component of above-threshold samples in the radius that holds the centre (or the brightest sample).
  const above = new Uint8Array(field.length);
  let brightest = -1;
  for (let k = 0; k < field.length; k++) {
    if (distance(k) > radiusVoxels || field[k] < threshold) continue;
    above[k] = 1;
    if (brightest < 0 || field[k] > field[brightest]) brightest = k;
  }
  const centre = (half * size + half) * size + half;
  const seed = above[centre] ? centre : brightest;
  if (seed < 0) return undefined;
  const component = new Uint8Array(field.length);
  const queue = [seed];
  component[seed] = 1;
  let count = 0;
  while (queue.length) {
    const k = queue.pop()!;
    count++;
    const x = k % size, y = Math.floor(k / size) % size, z = Math.floor(k / (size * size));
    for (const [dz, dy, dx] of NEIGHBOURS) {
      const a = z + dz, b = y + dy, c = x + dx;
      if (a < 0 || b < 0 || c < 0 || a >= size || b >= size || c >= size) continue;
      const n = (a * size + b) * size + c;
      if (above[n] && !component[n]) (component[n] = 1), queue.push(n);
    }
  }
  let min = Infinity;
  for (const v of field) min = Math.min(min, v);
  for (let k = 0; k < field.length; k++) if (!component[k]) field[k] = min;
  return { field: { data: field, shape: [size, size, size], voxelSize: { x: stride, y: stride, z: stride } }, threshold, stride, radiusVoxels, voxels: count * stride ** 3 };
}

const NEIGHBOURS = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]] as const;

/**
 * The shape placed at a particle's density centre, turned by its alignment: a voxel at offset o from
 * the centre is inside when the shape's field at R·o is above the threshold (particle(c + o) ≈
 * average(R·o), self-template.ts). Undefined when no voxel is inside.
 */
export function maskFromAverage(shape: AverageShape, centre: VoxelPoint, rotation: Matrix3, tomogramShape: Shape3): ParticleMask | undefined {
  const [nz, ny, nx] = tomogramShape;
  const r = Math.ceil(shape.radiusVoxels);
  const z0 = Math.max(0, Math.round(centre.z) - r), z1 = Math.min(nz, Math.round(centre.z) + r + 1);
  const y0 = Math.max(0, Math.round(centre.y) - r), y1 = Math.min(ny, Math.round(centre.y) + r + 1);
  const x0 = Math.max(0, Math.round(centre.x) - r), x1 = Math.min(nx, Math.round(centre.x) + r + 1);
  if (z0 >= z1 || y0 >= y1 || x0 >= x1) return undefined;
  const half = (shape.field.shape[0] - 1) / 2, s = shape.stride, R = rotation;
  const mask = new Uint8Array((z1 - z0) * (y1 - y0) * (x1 - x0));
  let any = false;
  for (let z = z0, i = 0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++, i++) {
    const oz = z - centre.z, oy = y - centre.y, ox = x - centre.x;
    if (oz * oz + oy * oy + ox * ox > shape.radiusVoxels ** 2) continue;
    const v = sampleTrilinear(shape.field, half + (R[0] * oz + R[1] * oy + R[2] * ox) / s, half + (R[3] * oz + R[4] * oy + R[5] * ox) / s, half + (R[6] * oz + R[7] * oy + R[8] * ox) / s);
    if (v >= shape.threshold) (mask[i] = 1), (any = true);
  }
  return any ? fromBoxMask({ z0, z1, y0, y1, x0, x1 }, mask) : undefined;
}

export interface AverageMasksInput {
  /** The pick's instances, prompts first, in the order that settles a voxel two masks claim. */
  instances: readonly Instance[];
  average: AverageBox;
  /** Each aligned instance's rotation into the average's frame; an instance without one keeps its mask. */
  rotation: ReadonlyMap<Instance, Matrix3>;
  centreOf: (inst: Instance) => VoxelPoint;
  polarity: 1 | -1;
  /** Equivalent-sphere radius of the particle, in voxels (Reference.particle). */
  equivalentRadius: number;
  shape: Shape3;
}

/**
 * The instances, in their order, with masks drawn from the average (ids, prompts and similarities kept), disjoint;
 * undefined when the average shows no particle (the segmented masks stand).
 */
export function masksFromAverage(input: AverageMasksInput): Instance[] | undefined {
  const shape = averageShape(input.average, input.polarity, input.equivalentRadius);
  if (!shape) return undefined;
  const out: Instance[] = [];
  for (const inst of input.instances) {
    const R = input.rotation.get(inst);
    const drawn = R && maskFromAverage(shape, input.centreOf(inst), R, input.shape);
    const mask = drawn ? withoutOverlaps(drawn, out) : inst;
    out.push({ ...inst, bbox: mask.bbox, mask: mask.mask, voxels: mask.voxels, centroid: mask.centroid });
  }
  return out;
}
