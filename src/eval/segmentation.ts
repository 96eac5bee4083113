/**
 * Voxel-wise segmentation scores and label-volume statistics. Everything streams over the typed
 * arrays of the volumes (no copies), so tomogram-sized label maps are fine.
 */
import { equivalentRadius } from '../pipeline/instance.js';
import { CryosamError } from '../errors.js';
import type { Shape3 } from '../volume/volume.js';

export interface SegmentationScore {
  /** 2tp / (2tp + fp + fn); 1 when both masks are empty. */
  dice: number;
  /** tp / (tp + fp + fn); 1 when both masks are empty. */
  iou: number;
  tp: number;
  fp: number;
  fn: number;
}

/**
 * Compares a predicted mask with a ground-truth one voxel by voxel. A voxel is inside the
 * prediction when it equals predLabel (any non-zero value when not given), and inside the truth
 * when it equals truthLabel (any non-zero value when not given).
 */
export function segmentationScore(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  opts: { truthLabel?: number; predLabel?: number } = {},
): SegmentationScore {
  if (pred.length !== truth.length) {
    throw new CryosamError(`prediction has ${pred.length} voxels but the ground truth has ${truth.length}`);
  }
  const { truthLabel, predLabel } = opts;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < pred.length; i++) {
    const inPred = predLabel === undefined ? pred[i] !== 0 : pred[i] === predLabel;
    const inTruth = truthLabel === undefined ? truth[i] !== 0 : truth[i] === truthLabel;
    if (inPred) {
      if (inTruth) tp++;
      else fp++;
    } else if (inTruth) fn++;
  }
  const union = tp + fp + fn;
  return { dice: union === 0 ? 1 : (2 * tp) / (tp + union), iou: union === 0 ? 1 : tp / union, tp, fp, fn };
}

/** One connected region of equal non-zero label (6-connectivity). */
export interface LabelRegion {
  label: number;
  voxels: number;
  centroid: { x: number; y: number; z: number };
}

/**
 * Connected regions of each non-zero label, found by flood fill with a 1-bit-per-voxel visited map
 * and an explicit stack (no recursion, no per-voxel objects).
 */
export function labelRegions(labels: ArrayLike<number>, shape: Shape3): LabelRegion[] {
  const [nz, ny, nx] = shape;
  const n = nz * ny * nx;
  if (labels.length !== n) throw new CryosamError(`label volume has ${labels.length} voxels, expected ${n}`);
  const visited = new Uint32Array(Math.ceil(n / 32));
  const isVisited = (i: number) => (visited[i >>> 5] >>> (i & 31)) & 1;
  const mark = (i: number) => (visited[i >>> 5] |= 1 << (i & 31));
  let stack = new Int32Array(1024);
  const regions: LabelRegion[] = [];
  for (let seed = 0; seed < n; seed++) {
    const label = labels[seed];
    if (label === 0 || isVisited(seed)) continue;
    mark(seed);
    stack[0] = seed;
    let top = 1;
    let voxels = 0;
    let sx = 0;
    let sy = 0;
    let sz = 0;
    while (top > 0) {
      const i = stack[--top];
      const x = i % nx;
      const y = ((i - x) / nx) % ny;
      const z = (i - x - y * nx) / (nx * ny);
      voxels++;
      sx += x;
      sy += y;
      sz += z;
      if (top + 6 > stack.length) {
        const grown = new Int32Array(stack.length * 2);
        grown.set(stack);
        stack = grown;
      }
      const visit = (j: number) => {
        if (labels[j] === label && !isVisited(j)) {
          mark(j);
          stack[top++] = j;
        }
      };
      if (x > 0) visit(i - 1);
      if (x < nx - 1) visit(i + 1);
      if (y > 0) visit(i - nx);
      if (y < ny - 1) visit(i + nx);
      if (z > 0) visit(i - nx * ny);
      if (z < nz - 1) visit(i + nx * ny);
    }
    regions.push({ label, voxels, centroid: { x: sx / voxels, y: sy / voxels, z: sz / voxels } });
  }
  return regions;
}


/**
 * Particle radius of each label, in voxels: the median equivalent-sphere radius of its connected
 * regions (the median, so that two touching particles merged into one region do not skew it).
 * Keys are the labels as strings, as class names of DeepFinder-style ground truth.
 */
export function estimateClassRadii(labels: ArrayLike<number>, shape: Shape3): Record<string, number> {
  const byLabel = new Map<number, number[]>();
  for (const r of labelRegions(labels, shape)) {
    let list = byLabel.get(r.label);
    if (!list) byLabel.set(r.label, (list = []));
    list.push(equivalentRadius(r.voxels));
  }
  const radii: Record<string, number> = {};
  for (const [label, list] of [...byLabel].sort((a, b) => a[0] - b[0])) {
    list.sort((a, b) => a - b);
    const mid = list.length >> 1;
    radii[String(label)] = list.length % 2 ? list[mid] : (list[mid - 1] + list[mid]) / 2;
  }
  return radii;
}
