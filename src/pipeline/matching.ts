/**
 * Matching of CryoSAM step 3: cosine similarity between the query and the feature volume,
 * coarse to fine over a pyramid (cell of level r = mean feature over its r³ voxel block). At the
 * coarsest level every cell is scored; cells above the similarity threshold, dilated by one cell,
 * say which cells of the next level are scored. The last level goes through NMS. Naive mode
 * scores every voxel (ratio 1) with the same scoring function.
 */
import type { ProgressCallback } from '../progress.js';
import type { FeatureVolume } from './feature-volume.js';
import { cellSpan, levelGrid, nonMaximumSuppression, type LevelGrid, type Peak } from './nms.js';
import type { VoxelPoint } from './types.js';

export interface MatchOptions {
  mode: 'hierarchical' | 'naive';
  pyramid: number[];
  similarityThreshold: number;
  /** NMS radius in voxels. */
  nmsRadius: number;
}

export interface LevelStats {
  ratio: number;
  scored: number;
  kept: number;
}

export interface MatchResult {
  /** NMS peaks in descending similarity. */
  peaks: Peak[];
  levels: LevelStats[];
  /** The grid of the last level, to score other points at the same resolution. */
  grid: LevelGrid;
}

/** Cosine similarity of a (not normalised) feature with the best of the normalised queries. */
function similarity(f: Float32Array, queries: Float32Array[]): number {
  let n = 0;
  for (let i = 0; i < f.length; i++) n += f[i] * f[i];
  if (n === 0) return 0;
  let best = -Infinity;
  for (const q of queries) {
    let d = 0;
    for (let i = 0; i < f.length; i++) d += f[i] * q[i];
    if (d > best) best = d;
  }
  return best / Math.sqrt(n);
}

/** Similarity of each listed cell of a level grid: the one scoring function of both modes. */
export function scoreCells(fv: FeatureVolume, queries: Float32Array[], g: LevelGrid, cells: Int32Array, onDone?: (done: number) => void): Float32Array {
  const [, gy, gx] = g.dims;
  const [nz, ny, nx] = g.shape;
  const f = new Float32Array(fv.dim);
  const out = new Float32Array(cells.length);
  for (let k = 0; k < cells.length; k++) {
    const cell = cells[k];
    const cx = cell % gx, t = (cell - cx) / gx, cy = t % gy, cz = (t - cy) / gy;
    const [z0, z1] = cellSpan(cz, g.ratio, nz), [y0, y1] = cellSpan(cy, g.ratio, ny), [x0, x1] = cellSpan(cx, g.ratio, nx);
    fv.blockMean(z0, z1, y0, y1, x0, x1, f);
    out[k] = similarity(f, queries);
    if (onDone && (k & 0xffff) === 0xffff) onDone(k + 1);
  }
  return out;
}

/**
 * Similarity of each point as an NMS peak would report it: the best cell of the 3×3×3 level cells
 * around the cell that holds the point (e.g. the prompts' own similarity, comparable with peaks).
 */
export function scorePoints(fv: FeatureVolume, queries: Float32Array[], g: LevelGrid, points: VoxelPoint[]): number[] {
  const [gz, gy, gx] = g.dims;
  const idx = (v: number, n: number) => Math.min(n - 1, Math.max(0, Math.floor(Math.round(v) / g.ratio)));
  return points.map((p) => {
    const cz = idx(p.z, gz), cy = idx(p.y, gy), cx = idx(p.x, gx);
    const cells: number[] = [];
    for (let z = Math.max(0, cz - 1); z <= Math.min(gz - 1, cz + 1); z++)
      for (let y = Math.max(0, cy - 1); y <= Math.min(gy - 1, cy + 1); y++)
        for (let x = Math.max(0, cx - 1); x <= Math.min(gx - 1, cx + 1); x++) cells.push((z * gy + y) * gx + x);
    return Math.max(...scoreCells(fv, queries, g, Int32Array.from(cells)));
  });
}

/** 3×3×3 dilation of a cell mask. */
function dilate(mask: Uint8Array, dims: [number, number, number]): Uint8Array {
  let a = mask;
  const strides = [dims[1] * dims[2], dims[2], 1];
  for (let d = 0; d < 3; d++) {
    const b = new Uint8Array(a.length);
    const s = strides[d], n = dims[d];
    for (let i = 0; i < a.length; i++) {
      if (!a[i]) continue;
      b[i] = 1;
      const pos = Math.floor(i / s) % n;
      if (pos > 0) b[i - s] = 1;
      if (pos < n - 1) b[i + s] = 1;
    }
    a = b;
  }
  return a;
}

/** Cells of `g` whose centre voxel falls in a kept cell of the coarser level `parent`. */
function childrenOf(g: LevelGrid, parent: LevelGrid, keep: Uint8Array): Int32Array {
  const [gz, gy, gx] = g.dims;
  const [, py, px] = parent.dims;
  const pIndex = (i: number, n: number) => {
    const [lo, hi] = cellSpan(i, g.ratio, n);
    return Math.floor(Math.floor((lo + hi - 1) / 2) / parent.ratio);
  };
  const pzs = Int32Array.from({ length: gz }, (_, i) => pIndex(i, g.shape[0]));
  const pys = Int32Array.from({ length: gy }, (_, i) => pIndex(i, g.shape[1]));
  const pxs = Int32Array.from({ length: gx }, (_, i) => pIndex(i, g.shape[2]));
  const out: number[] = [];
  for (let z = 0; z < gz; z++)
    for (let y = 0; y < gy; y++)
      for (let x = 0; x < gx; x++) if (keep[(pzs[z] * py + pys[y]) * px + pxs[x]]) out.push((z * gy + y) * gx + x);
  return Int32Array.from(out);
}

export function matchFeatures(fv: FeatureVolume, queries: Float32Array[], opts: MatchOptions, onProgress: ProgressCallback): MatchResult {
  const ratios = opts.mode === 'naive' ? [1] : opts.pyramid;
  const levels: LevelStats[] = [];
  let cells: Int32Array | undefined;
  let prev: LevelGrid | undefined;
  let keep: Uint8Array | undefined;
  let grid = levelGrid(fv.shape, ratios[0]);
  let scores: Float32Array = new Float32Array(0);
  for (const ratio of ratios) {
    grid = levelGrid(fv.shape, ratio);
    const total = grid.dims[0] * grid.dims[1] * grid.dims[2];
    cells = prev && keep ? childrenOf(grid, prev, dilate(keep, prev.dims)) : Int32Array.from({ length: total }, (_, i) => i);
    const stage = `matching 1/${ratio}`;
    const n = cells.length;
    onProgress({ stage, done: 0, total: n });
    scores = scoreCells(fv, queries, grid, cells, (done) => onProgress({ stage, done, total: n }));
    onProgress({ stage, done: n, total: n });
    keep = new Uint8Array(total);
    let kept = 0;
    for (let k = 0; k < n; k++) {
      if (scores[k] > opts.similarityThreshold) {
        keep[cells[k]] = 1;
        kept++;
      }
    }
    levels.push({ ratio, scored: n, kept });
    prev = grid;
  }
  const last = cells ?? new Int32Array(0);
  const above = Int32Array.from(last.keys()).filter((k) => scores[k] > opts.similarityThreshold);
  const peaks = nonMaximumSuppression(grid, Int32Array.from(above, (k) => last[k]), Float32Array.from(above, (k) => scores[k]), opts.nmsRadius);
  return { peaks, levels, grid };
}
