/**
 * Picking scores: picks are matched one-to-one to ground-truth particles within a distance, by an
 * optimal assignment (as many matches as possible, then the smallest total distance), never
 * greedily, so a pick lying between two particles cannot steal the match of a better one.
 */
import { CryosamError } from '../errors.js';
import type { Pick } from '../io/coords/pick.js';
import { optimalAssignment, type SparseCosts } from './assign.js';

export interface PickScore {
  /** Matched picks. */
  tp: number;
  /** Picks without a particle within the distance. */
  fp: number;
  /** Particles without a pick within the distance. */
  fn: number;
  /** tp / (tp + fp); 1 when there are no picks (none of them is wrong). */
  precision: number;
  /** tp / (tp + fn); 1 when there is no ground truth (nothing was missed). */
  recall: number;
  /** 2tp / (2tp + fp + fn): 0 when exactly one side is empty, 1 when both are. */
  f1: number;
  /** Mean pick-to-particle distance of the matches in voxels; NaN without matches. */
  meanDistance: number;
  /** [pickIndex, truthIndex] of each match, indices into the arrays given to the scorer. */
  matches: Array<[number, number]>;
}

/**
 * Scores picks against ground truth (both in voxels of the same tomogram). A pick matches a
 * particle when their Euclidean distance is ≤ maxDistanceVoxels. Class names are ignored here.
 */
export function scorePicks(picks: readonly Pick[], truth: readonly Pick[], maxDistanceVoxels: number): PickScore {
  if (!(maxDistanceVoxels >= 0) || !Number.isFinite(maxDistanceVoxels)) {
    throw new CryosamError(`match distance must be a finite number ≥ 0 voxels, got ${maxDistanceVoxels}`);
  }
  const pairs = pairsWithin(picks, truth, maxDistanceVoxels);
  const matches = optimalAssignment(picks.length, truth.length, pairs);
  let total = 0;
  for (const [i, j] of matches) total += distance(picks[i], truth[j]);
  return scoreFromCounts(matches.length, picks.length - matches.length, truth.length - matches.length, total, matches);
}

/**
 * Scores each class separately: picks of class C only match ground truth of class C, within the
 * class's radius (or one distance for all). Picks and particles without a class name form the
 * class ''. Classes present on either side are reported; match indices refer to the full arrays.
 */
export function scorePicksByClass(
  picks: readonly Pick[],
  truth: readonly Pick[],
  radiusByClass: Readonly<Record<string, number>> | number,
): Record<string, PickScore> {
  const pickGroups = groupByClass(picks);
  const truthGroups = groupByClass(truth);
  const classes = [...new Set([...truthGroups.keys(), ...pickGroups.keys()])].sort(compareClassNames);
  const result: Record<string, PickScore> = {};
  for (const name of classes) {
    const pickIdx = pickGroups.get(name) ?? [];
    const truthIdx = truthGroups.get(name) ?? [];
    const radius = typeof radiusByClass === 'number' ? radiusByClass : radiusByClass[name];
    if (radius === undefined && truthIdx.length > 0 && pickIdx.length > 0) {
      throw new CryosamError(`no match distance given for class '${name}'`);
    }
    const score = scorePicks(
      pickIdx.map((i) => picks[i]),
      truthIdx.map((j) => truth[j]),
      radius ?? 0,
    );
    score.matches = score.matches.map(([i, j]) => [pickIdx[i], truthIdx[j]]);
    result[name] = score;
  }
  return result;
}

/** Pools several scores (micro-average: counts and distances summed, then the ratios). */
export function combineScores(scores: readonly PickScore[]): PickScore {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let total = 0;
  const matches: Array<[number, number]> = [];
  for (const s of scores) {
    tp += s.tp;
    fp += s.fp;
    fn += s.fn;
    if (s.tp > 0) total += s.meanDistance * s.tp;
    matches.push(...s.matches);
  }
  return scoreFromCounts(tp, fp, fn, total, matches);
}

function scoreFromCounts(
  tp: number,
  fp: number,
  fn: number,
  totalDistance: number,
  matches: Array<[number, number]>,
): PickScore {
  return {
    tp,
    fp,
    fn,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: tp + fn === 0 ? 1 : tp / (tp + fn),
    f1: tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn),
    meanDistance: tp === 0 ? NaN : totalDistance / tp,
    matches,
  };
}

/** Numeric class names (DeepFinder's 1..9) in numeric order, others alphabetically. */
function compareClassNames(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a.localeCompare(b);
}

function groupByClass(points: readonly Pick[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  points.forEach((p, i) => {
    const name = p.className ?? '';
    let list = groups.get(name);
    if (!list) groups.set(name, (list = []));
    list.push(i);
  });
  return groups;
}

function distance(a: Pick, b: Pick): number {
  return Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
}

/**
 * All (pick, particle) pairs within maxDistance, found through a uniform grid of cells at least
 * maxDistance wide: each pick only looks at the 27 cells around it, so 10k × 10k stays fast.
 */
export function pairsWithin(picks: readonly Pick[], truth: readonly Pick[], maxDistance: number): SparseCosts {
  const left: number[] = [];
  const right: number[] = [];
  const cost: number[] = [];
  if (picks.length > 0 && truth.length > 0) {
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    for (const p of truth) {
      const c = [p.x, p.y, p.z];
      for (let a = 0; a < 3; a++) {
        if (!Number.isFinite(c[a])) throw new CryosamError(`ground-truth particle has a non-finite coordinate`);
        lo[a] = Math.min(lo[a], c[a]);
        hi[a] = Math.max(hi[a], c[a]);
      }
    }
    // Cells at least maxDistance wide, and at most ~2^17 per axis so that integer keys stay exact.
    const extent = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]);
    const cell = Math.max(maxDistance, extent / 2 ** 17, 1e-9);
    const dims = [0, 1, 2].map((a) => Math.floor((hi[a] - lo[a]) / cell) + 1);
    const key = (cx: number, cy: number, cz: number) => (cz * dims[1] + cy) * dims[0] + cx;
    const cellOf = (v: number, a: number) => Math.floor((v - lo[a]) / cell);

    const buckets = new Map<number, number[]>();
    truth.forEach((t, j) => {
      const k = key(cellOf(t.x, 0), cellOf(t.y, 1), cellOf(t.z, 2));
      let list = buckets.get(k);
      if (!list) buckets.set(k, (list = []));
      list.push(j);
    });

    picks.forEach((p, i) => {
      const cx = cellOf(p.x, 0);
      const cy = cellOf(p.y, 1);
      const cz = cellOf(p.z, 2);
      for (let z = Math.max(cz - 1, 0); z <= Math.min(cz + 1, dims[2] - 1); z++) {
        for (let y = Math.max(cy - 1, 0); y <= Math.min(cy + 1, dims[1] - 1); y++) {
          for (let x = Math.max(cx - 1, 0); x <= Math.min(cx + 1, dims[0] - 1); x++) {
            for (const j of buckets.get(key(x, y, z)) ?? []) {
              const d = distance(p, truth[j]);
              if (d <= maxDistance) {
                left.push(i);
                right.push(j);
                cost.push(d);
              }
            }
          }
        }
      }
    });
  }
  return { left: Int32Array.from(left), right: Int32Array.from(right), cost: Float64Array.from(cost) };
}
