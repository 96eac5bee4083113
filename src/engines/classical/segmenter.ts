/**
 * The weight-free promptable segmenter: the default engine until model weights are configured.
 *
 * embed(): denoised contrast map in noise units (see embedding.ts), once per slice.
 * decode(): works only in a window around the prompt (and the mask prior), grown while the region
 * still reaches the window edge, so its cost does not depend on the slice size:
 *  1. polarity from the prompt vs background (dark protein unless clearly bright, or fixed by option);
 *  2. the particle's core contrast near the prompt (or inside the prior mask); candidates are the
 *     regions above fixed fractions of it (half-maximum-like thresholds, robust to the scaling);
 *  3. each candidate: the 4-connected component holding the positive point(s), limited to the prior
 *     dilated by a margin; holes filled; smoothed; touching particles split at necks; the parts of
 *     negative points' particles cut away (marker watershed on the distance to the region's boundary);
 *  4. score ≈ predicted IoU: significance of the inside-vs-ring contrast (in noise units, for the
 *     region's size), times ellipse regularity, penalised for leaking out of the largest window.
 * Low-res logits are the signed distance (pixels) to the mask boundary at half resolution, clipped:
 * fed back as maskInput they give both the shape prior and its dilation (logit > −margin).
 */
import type {
  EngineIdentity,
  LowResLogits,
  PointPrompt,
  PromptableSegmenter,
  SegmentRequest,
  SegmentResult,
  Slice2D,
  SliceEmbedding,
} from '../types.js';
import { CryosamError } from '../../errors.js';
import { gaussianFilter2d } from '../../volume/gaussian.js';
import { ClassicalEmbedding, deserializeEmbedding, embedSlice, serializedEmbeddingBytes, serializeEmbedding } from './embedding.js';
import { chamferDistance, ellipseRegularity, fillHoles, floodFill, labelComponents, watershed } from './regions.js';

export type Polarity = 'auto' | 'dark' | 'bright';

export interface ClassicalSegmenterOptions {
  /** Denoising Gaussian σ in slice pixels (default 2). */
  sigma?: number;
  /** Side of the blocks whose medians give the local background, in pixels (default 64). */
  backgroundBlock?: number;
  /** Particle contrast: 'auto' (default) decides per prompt, dark unless clearly brighter than background. */
  polarity?: Polarity;
  /**
   * Candidate thresholds as fractions of the particle's core contrast over the background (default
   * [0.5, 0.35, 0.65]: half-maximum first); on equal scores the earlier one is returned first.
   */
  thresholds?: number[];
  /** Initial half-size of the decode window around the prompt, in pixels (default 24). */
  windowRadius?: number;
  /** Largest half-size the window may grow to, in pixels (default 128). */
  maxWindowRadius?: number;
  /** How far a mask may grow beyond the previous slice's mask, as a fraction of that mask's inscribed radius (default 0.3; at least 2 pixels). */
  priorMargin?: number;
}

type Resolved = Required<ClassicalSegmenterOptions>;

const DEFAULTS: Resolved = {
  sigma: 2,
  backgroundBlock: 64,
  polarity: 'auto',
  thresholds: [0.5, 0.35, 0.65],
  windowRadius: 24,
  maxWindowRadius: 128,
  priorMargin: 0.3,
};

/** Logits are signed distances in pixels, clipped here (beyond this nothing is a useful prior). */
const LOGIT_CLIP = 32;
/** Low-res logits are at 1/LOWRES_FACTOR of the slice resolution, like SAM's 256² for 1024². */
const LOWRES_FACTOR = 2;
/** Lowest threshold in noise units: below it smoothed noise percolates and no region is meaningful. */
const THRESHOLD_FLOOR = 0.5;
/** Contour smoothing of candidate masks (px): averages out noise wiggles of the threshold boundary. */
const MASK_SMOOTH_SIGMA = 1.5;
/** Cores of a region are its pixels deeper than this fraction of its largest inscribed radius. */
const NECK_DEPTH = 0.5;
/** Radius (px) of the watershed marker around each point when a negative point splits a region. */
const MARKER_RADIUS = 3;
/** A prompt off the particle by up to this many pixels still finds it. */
const SEED_SEARCH = 3;
/** Significance (z, noise units) where the contrast term of the score is 0.5, and its softness. */
const Z_MID = 2;
const Z_SOFT = 0.5;

export class ClassicalSegmenter implements PromptableSegmenter {
  private readonly o: Resolved;

  constructor(options: ClassicalSegmenterOptions = {}) {
    this.o = { ...DEFAULTS, ...options };
    const o = this.o;
    if (!(o.sigma > 0)) throw new CryosamError(`classical segmenter: sigma must be > 0 pixels (got ${o.sigma})`);
    if (!(o.backgroundBlock >= 8)) throw new CryosamError(`classical segmenter: backgroundBlock must be ≥ 8 pixels (got ${o.backgroundBlock})`);
    if (o.thresholds.length === 0 || o.thresholds.some((t) => !(t > 0 && t < 1))) {
      throw new CryosamError(`classical segmenter: thresholds must be fractions in (0, 1) (got ${o.thresholds.join(', ')})`);
    }
    if (!(o.windowRadius >= 4 && o.maxWindowRadius >= o.windowRadius)) {
      throw new CryosamError(`classical segmenter: need 4 ≤ windowRadius ≤ maxWindowRadius (got ${o.windowRadius}, ${o.maxWindowRadius})`);
    }
    if (!(o.priorMargin >= 0)) throw new CryosamError(`classical segmenter: priorMargin must be ≥ 0 (got ${o.priorMargin})`);
  }

  identity(): EngineIdentity {
    return { name: 'classical-segmenter', params: { ...this.o, thresholds: [...this.o.thresholds], lowResFactor: LOWRES_FACTOR } };
  }

  async embed(slices: Slice2D[]): Promise<SliceEmbedding[]> {
    return slices.map((s) => embedSlice(s, this.o.sigma, this.o.backgroundBlock));
  }

  serializeEmbedding(embedding: SliceEmbedding): Uint8Array {
    return serializeEmbedding(asClassical(embedding));
  }

  deserializeEmbedding(bytes: Uint8Array): SliceEmbedding {
    return deserializeEmbedding(bytes);
  }

  embeddingBytes(height: number, width: number): number {
    return serializedEmbeddingBytes(height, width);
  }

  async dispose(): Promise<void> {}

  async decode(embedding: SliceEmbedding, request: SegmentRequest): Promise<SegmentResult> {
    const e = asClassical(embedding);
    const positives = request.points.filter((p) => p.label === 1).map((p) => clampPoint(p, e));
    const negatives = request.points.filter((p) => p.label === 0).map((p) => clampPoint(p, e));
    if (positives.length === 0 && !request.maskInput) {
      throw new CryosamError('classical segmenter: a request needs a positive point or a mask prompt');
    }
    const prior = request.maskInput ? readPrior(request.maskInput, e, this.o.priorMargin) : undefined;
    const seeds = positives.length > 0 ? positives : prior ? [prior.peak] : [];
    if (seeds.length === 0) return assemble(e, [], request.multimask ?? false);

    const { sign, core } = particleLevels(e, seeds, prior, this.o.polarity);
    const thresholds = this.o.thresholds.map((f) => Math.max(THRESHOLD_FLOOR, f * core));
    const loosest = Math.min(...thresholds);

    // Grow the window until the loosest candidate no longer reaches its edge (a prior bounds it already).
    let radius = this.o.windowRadius;
    let win = new DecodeWindow(e, sign, seeds, negatives, prior, radius);
    while (!prior && radius < this.o.maxWindowRadius && win.segment(loosest).touchesEdge) {
      radius = Math.min(this.o.maxWindowRadius, radius * 2);
      win = new DecodeWindow(e, sign, seeds, negatives, prior, radius);
    }
    const candidates = thresholds.map((t) => win.candidate(t, this.o.sigma));
    return assemble(e, candidates, request.multimask ?? false);
  }
}

interface Point {
  row: number;
  col: number;
}

function asClassical(embedding: SliceEmbedding): ClassicalEmbedding {
  if (!(embedding instanceof ClassicalEmbedding)) {
    throw new CryosamError('classical segmenter: the embedding was made by another engine');
  }
  return embedding;
}

function clampPoint(p: PointPrompt, e: ClassicalEmbedding): Point {
  if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new CryosamError(`prompt point (${p.x}, ${p.y}) is not finite`);
  return {
    row: Math.min(e.height - 1, Math.max(0, Math.round(p.y))),
    col: Math.min(e.width - 1, Math.max(0, Math.round(p.x))),
  };
}

/** The previous slice's mask as a shape prior, read from logits of any size proportional to the slice. */
interface Prior {
  /** Signed distance (px) at slice pixel (row, col). */
  at(row: number, col: number): number;
  margin: number;
  /** Slice-pixel bounds of logit > −margin, inclusive. */
  r0: number;
  r1: number;
  c0: number;
  c1: number;
  /** The prior's most interior point. */
  peak: Point;
}

function readPrior(m: LowResLogits, e: ClassicalEmbedding, marginFraction: number): Prior | undefined {
  if (m.data.length !== m.height * m.width || m.height === 0 || m.width === 0) {
    throw new CryosamError(`mask prompt holds ${m.data.length} values, not ${m.height}×${m.width}`);
  }
  let best = -Infinity;
  let bestIdx = 0;
  for (let i = 0; i < m.data.length; i++) {
    if (m.data[i] > best) (best = m.data[i]), (bestIdx = i);
  }
  if (!(best > 0)) return undefined;
  const margin = Math.max(2, marginFraction * best);
  let lr0 = m.height;
  let lr1 = -1;
  let lc0 = m.width;
  let lc1 = -1;
  for (let r = 0; r < m.height; r++) {
    for (let c = 0; c < m.width; c++) {
      if (m.data[r * m.width + c] <= -margin) continue;
      if (r < lr0) lr0 = r;
      if (r > lr1) lr1 = r;
      if (c < lc0) lc0 = c;
      if (c > lc1) lc1 = c;
    }
  }
  const sy = m.height / e.height;
  const sx = m.width / e.width;
  const bestRow = Math.floor(bestIdx / m.width);
  return {
    at: (row, col) => m.data[Math.min(m.height - 1, Math.floor(row * sy)) * m.width + Math.min(m.width - 1, Math.floor(col * sx))],
    margin,
    r0: Math.floor(lr0 / sy),
    r1: Math.min(e.height - 1, Math.ceil((lr1 + 1) / sy)),
    c0: Math.floor(lc0 / sx),
    c1: Math.min(e.width - 1, Math.ceil((lc1 + 1) / sx)),
    peak: {
      row: Math.min(e.height - 1, Math.floor((bestRow + 0.5) / sy)),
      col: Math.min(e.width - 1, Math.floor(((bestIdx % m.width) + 0.5) / sx)),
    },
  };
}

/** Radius (px) around point prompts read for the particle's core level; also how far off-centre a prompt may be. */
const CORE_RADIUS = 4;
/** Core level (noise units) above which a prompt counts as a bright particle in 'auto' polarity. */
const BRIGHT_MIN = 1;

/**
 * Polarity and core contrast of the prompted particle: the 75th percentile of sign × contrast inside
 * the prior mask, else in discs around the points. An upper quantile rather than the value under the
 * point, so a prompt on a noise dip inside a particle (or slightly off-centre) still reads its level.
 */
function particleLevels(e: ClassicalEmbedding, seeds: Point[], prior: Prior | undefined, polarity: Polarity): { sign: 1 | -1; core: number } {
  const values: number[] = [];
  if (prior) {
    for (let r = prior.r0; r <= prior.r1; r++) {
      for (let c = prior.c0; c <= prior.c1; c++) if (prior.at(r, c) > 0) values.push(e.contrast(r * e.width + c));
    }
  }
  if (values.length === 0) {
    for (const s of seeds) {
      for (let r = Math.max(0, s.row - CORE_RADIUS); r <= Math.min(e.height - 1, s.row + CORE_RADIUS); r++) {
        for (let c = Math.max(0, s.col - CORE_RADIUS); c <= Math.min(e.width - 1, s.col + CORE_RADIUS); c++) {
          if ((r - s.row) ** 2 + (c - s.col) ** 2 <= CORE_RADIUS * CORE_RADIUS) values.push(e.contrast(r * e.width + c));
        }
      }
    }
  }
  values.sort((a, b) => a - b);
  const quantile = (q: number): number => values[Math.round(q * (values.length - 1))];
  const dark = -quantile(0.25);
  const bright = quantile(0.75);
  const sign: 1 | -1 = polarity === 'bright' ? 1 : polarity === 'dark' ? -1 : bright > BRIGHT_MIN && bright > dark ? 1 : -1;
  return { sign, core: sign === 1 ? bright : dark };
}

/** One candidate mask inside the decode window, with what scoring and encoding need. */
interface Candidate {
  win: DecodeWindow;
  /** Window-local mask. */
  mask: Uint8Array;
  area: number;
  touchesEdge: boolean;
  score: number;
  /** Window-local signed distance to the boundary (px), > 0 inside. */
  signed: Float32Array;
  best: Point;
}

/** The part of the slice decode looks at, with the polarity-corrected contrast and the prior's allowed region. */
class DecodeWindow {
  readonly row0: number;
  readonly col0: number;
  readonly h: number;
  readonly w: number;
  /** Contrast × polarity: particles positive. */
  readonly f: Float32Array;
  readonly allowed: Uint8Array;
  private readonly seeds: number[];
  private readonly negatives: number[];
  /** Edges of the window that are not slice edges (a region reaching them may continue outside). */
  private readonly openEdges: { top: boolean; bottom: boolean; left: boolean; right: boolean };

  constructor(
    readonly e: ClassicalEmbedding,
    sign: 1 | -1,
    seeds: Point[],
    negatives: Point[],
    prior: Prior | undefined,
    radius: number,
  ) {
    // With a prior the window is its dilated bounds (and the seeds) plus room for the scoring ring;
    // without one, a square of `radius` around the seeds.
    const pad = prior ? 4 : radius;
    let r0 = Math.min(...seeds.map((s) => s.row)) - pad;
    let r1 = Math.max(...seeds.map((s) => s.row)) + pad;
    let c0 = Math.min(...seeds.map((s) => s.col)) - pad;
    let c1 = Math.max(...seeds.map((s) => s.col)) + pad;
    if (prior) {
      r0 = Math.min(r0, prior.r0 - pad);
      r1 = Math.max(r1, prior.r1 + pad);
      c0 = Math.min(c0, prior.c0 - pad);
      c1 = Math.max(c1, prior.c1 + pad);
    }
    this.row0 = Math.max(0, r0);
    this.col0 = Math.max(0, c0);
    const rowEnd = Math.min(e.height - 1, r1);
    const colEnd = Math.min(e.width - 1, c1);
    this.h = rowEnd - this.row0 + 1;
    this.w = colEnd - this.col0 + 1;
    this.openEdges = { top: this.row0 > 0, bottom: rowEnd < e.height - 1, left: this.col0 > 0, right: colEnd < e.width - 1 };
    const n = this.h * this.w;
    this.f = new Float32Array(n);
    this.allowed = new Uint8Array(n).fill(1);
    for (let r = 0; r < this.h; r++) {
      const src = (this.row0 + r) * e.width + this.col0;
      for (let c = 0; c < this.w; c++) {
        this.f[r * this.w + c] = sign * e.contrast(src + c);
        if (prior && prior.at(this.row0 + r, this.col0 + c) <= -prior.margin) this.allowed[r * this.w + c] = 0;
      }
    }
    this.seeds = seeds.map((s) => this.local(s)).filter((i) => i >= 0);
    this.negatives = negatives.map((s) => this.local(s)).filter((i) => i >= 0);
  }

  /** Window index of a slice point, −1 outside. */
  private local(p: Point): number {
    const r = p.row - this.row0;
    const c = p.col - this.col0;
    return r < 0 || c < 0 || r >= this.h || c >= this.w ? -1 : r * this.w + c;
  }

  /** The region above `t` holding the seeds, without the negatives' part, hole-filled and smoothed. */
  segment(t: number): { mask: Uint8Array; area: number; touchesEdge: boolean } {
    const { h, w } = this;
    const n = h * w;
    const above = new Uint8Array(n);
    for (let i = 0; i < n; i++) above[i] = this.allowed[i] && this.f[i] >= t ? 1 : 0;
    const starts = this.seeds.map((s) => this.nearestAbove(above, s)).filter((i) => i >= 0);
    const mask = new Uint8Array(n);
    if (starts.length === 0) return { mask, area: 0, touchesEdge: false };
    floodFill(above, h, w, starts, mask);
    fillHoles(mask, h, w);
    this.smooth(mask, starts);
    this.splitAtNecks(mask, starts);
    // Checked on the filled, smoothed region: a negative point on a noise dip of the other particle counts as in it.
    const blocking = this.negatives.filter((i) => mask[i]);
    if (blocking.length > 0) {
      const depth = new Float32Array(n);
      chamferDistance(mask, h, w, 0, depth);
      const labels = watershed(depth, mask, h, w, this.markers(starts, blocking));
      for (let i = 0; i < n; i++) mask[i] = labels[i] === 1 ? 1 : 0;
      fillHoles(mask, h, w);
    }
    let area = 0;
    for (let i = 0; i < n; i++) area += mask[i];
    return { mask, area, touchesEdge: this.touchesOpenEdge(mask) };
  }

  /**
   * Separates touching particles that merged at the threshold: the region's cores (pixels deeper than
   * half its largest inscribed radius) fall apart at a neck narrower than that; each core then grows
   * back over the region by a watershed on the distance to the boundary, and the seeds' part is kept.
   * Discs and missing-wedge ellipses keep a single core and are left as they are.
   */
  private splitAtNecks(mask: Uint8Array, starts: number[]): void {
    const { h, w } = this;
    const depth = new Float32Array(mask.length);
    chamferDistance(mask, h, w, 0, depth);
    let deepest = 0;
    for (let i = 0; i < mask.length; i++) if (depth[i] > deepest) deepest = depth[i];
    const cores = new Uint8Array(mask.length);
    for (let i = 0; i < mask.length; i++) cores[i] = depth[i] > NECK_DEPTH * deepest ? 1 : 0;
    const { labels: coreLabels, count } = labelComponents(cores, h, w);
    if (count < 2) return;
    const markers = new Map<number, number>();
    for (let i = 0; i < mask.length; i++) if (coreLabels[i]) markers.set(i, coreLabels[i]);
    const parts = watershed(depth, mask, h, w, markers);
    const own = new Set(starts.map((i) => parts[i]).filter((l) => l > 0));
    for (let i = 0; i < mask.length; i++) if (!own.has(parts[i])) mask[i] = 0;
  }

  /**
   * Watershed markers: a small disc around each point (label 1 positive, 2 negative), each pixel to the
   * nearest point. Discs, not single pixels, because a point may sit in a noise pit of its particle.
   */
  private markers(positives: number[], negatives: number[]): Map<number, number> {
    const points = [...positives.map((i) => ({ i, label: 1 })), ...negatives.map((i) => ({ i, label: 2 }))];
    const nearest = new Map<number, { label: number; d: number }>();
    for (const p of points) {
      const r0 = Math.floor(p.i / this.w);
      const c0 = p.i % this.w;
      for (let r = Math.max(0, r0 - MARKER_RADIUS); r <= Math.min(this.h - 1, r0 + MARKER_RADIUS); r++) {
        for (let c = Math.max(0, c0 - MARKER_RADIUS); c <= Math.min(this.w - 1, c0 + MARKER_RADIUS); c++) {
          const d = (r - r0) ** 2 + (c - c0) ** 2;
          const j = r * this.w + c;
          if (d > MARKER_RADIUS * MARKER_RADIUS || d >= (nearest.get(j)?.d ?? Infinity)) continue;
          nearest.set(j, { label: p.label, d });
        }
      }
    }
    return new Map([...nearest].map(([j, v]) => [j, v.label]));
  }

  /** Blurs the mask (σ = MASK_SMOOTH_SIGMA) and re-thresholds at ½, keeping the seeds' component: rounds off noise spurs. */
  private smooth(mask: Uint8Array, starts: number[]): void {
    const { h, w } = this;
    const blurred = gaussianFilter2d({ data: Float32Array.from(mask), height: h, width: w }, MASK_SMOOTH_SIGMA).data;
    const keep = new Uint8Array(mask.length);
    for (let i = 0; i < mask.length; i++) keep[i] = blurred[i] >= 0.5 && this.allowed[i] ? 1 : 0;
    const smoothed = new Uint8Array(mask.length);
    // Thin regions can vanish under the blur; then the unsmoothed mask is the better answer.
    if (floodFill(keep, h, w, starts, smoothed) > 0) mask.set(smoothed);
  }

  /** The seed itself if above threshold, else the closest above-threshold pixel within SEED_SEARCH, else −1. */
  private nearestAbove(above: Uint8Array, seed: number): number {
    if (above[seed]) return seed;
    const r = Math.floor(seed / this.w);
    const c = seed % this.w;
    let best = -1;
    let bestD = Infinity;
    for (let dr = -SEED_SEARCH; dr <= SEED_SEARCH; dr++) {
      for (let dc = -SEED_SEARCH; dc <= SEED_SEARCH; dc++) {
        const rr = r + dr;
        const cc = c + dc;
        const d = dr * dr + dc * dc;
        if (rr < 0 || cc < 0 || rr >= this.h || cc >= this.w || d >= bestD || d > SEED_SEARCH * SEED_SEARCH) continue;
        if (above[rr * this.w + cc]) (best = rr * this.w + cc), (bestD = d);
      }
    }
    return best;
  }

  private touchesOpenEdge(mask: Uint8Array): boolean {
    const { h, w, openEdges: o } = this;
    for (let c = 0; c < w; c++) if ((o.top && mask[c]) || (o.bottom && mask[(h - 1) * w + c])) return true;
    for (let r = 0; r < h; r++) if ((o.left && mask[r * w]) || (o.right && mask[r * w + w - 1])) return true;
    return false;
  }

  /** Segments at `t` and scores the result (see the module comment). */
  candidate(t: number, sigma: number): Candidate {
    const { h, w } = this;
    const { mask, area, touchesEdge } = this.segment(t);
    const inside = new Float32Array(h * w);
    const outside = new Float32Array(h * w);
    chamferDistance(mask, h, w, 0, inside);
    chamferDistance(mask, h, w, 1, outside);
    const signed = new Float32Array(h * w);
    let best = -1;
    for (let i = 0; i < h * w; i++) {
      signed[i] = mask[i] ? inside[i] - 0.5 : 0.5 - outside[i];
      if (mask[i] && (best < 0 || inside[i] > inside[best])) best = i;
    }
    const bestPoint = best >= 0 ? { row: this.row0 + Math.floor(best / w), col: this.col0 + (best % w) } : this.seedPoint();
    if (area === 0) return { win: this, mask, area, touchesEdge, score: 0, signed, best: bestPoint };

    // Contrast of the region against a ring around it, as a significance for its size: smoothed
    // noise is correlated over about 4πσ² pixels, so a mean over A pixels has σ ≈ √(4πσ²/A).
    const ringWidth = Math.max(2, 0.5 * Math.sqrt(area / Math.PI));
    let sumIn = 0;
    let sumRing = 0;
    let nRing = 0;
    for (let i = 0; i < h * w; i++) {
      if (mask[i]) sumIn += this.f[i];
      else if (outside[i] > 1 && outside[i] <= 1 + ringWidth) (sumRing += this.f[i]), nRing++;
    }
    const contrast = sumIn / area - (nRing > 0 ? sumRing / nRing : 0);
    const corrArea = 4 * Math.PI * sigma * sigma;
    const z = contrast / Math.sqrt(corrArea / area + corrArea / Math.max(nRing, 1));
    const significance = 1 / (1 + Math.exp(-(z - Z_MID) / Z_SOFT));
    const regularity = Math.min(1, Math.max(0, (ellipseRegularity(mask, h, w) - 0.5) / 0.35));
    const leak = touchesEdge ? 0.5 : 1;
    const score = significance * (0.25 + 0.75 * regularity) * leak;
    return { win: this, mask, area, touchesEdge, score, signed, best: bestPoint };
  }

  private seedPoint(): Point {
    const i = this.seeds[0] ?? 0;
    return { row: this.row0 + Math.floor(i / this.w), col: this.col0 + (i % this.w) };
  }
}

/** Full-slice masks, half-resolution signed-distance logits and best points, ordered by score. */
function assemble(e: ClassicalEmbedding, candidates: Candidate[], multimask: boolean): SegmentResult {
  const ordered = [...candidates].sort((a, b) => b.score - a.score);
  const chosen = multimask ? ordered : ordered.slice(0, 1);
  const lh = Math.ceil(e.height / LOWRES_FACTOR);
  const lw = Math.ceil(e.width / LOWRES_FACTOR);
  if (chosen.length === 0) {
    return {
      masks: [new Uint8Array(e.height * e.width)],
      scores: Float32Array.of(0),
      lowRes: [{ data: new Float32Array(lh * lw).fill(-LOGIT_CLIP), height: lh, width: lw }],
      bestPoints: [{ x: 0, y: 0 }],
    };
  }
  const masks: Uint8Array[] = [];
  const lowRes: LowResLogits[] = [];
  for (const cand of chosen) {
    const { win } = cand;
    const full = new Uint8Array(e.height * e.width);
    for (let r = 0; r < win.h; r++) full.set(cand.mask.subarray(r * win.w, (r + 1) * win.w), (win.row0 + r) * e.width + win.col0);
    masks.push(full);
    const logits = new Float32Array(lh * lw).fill(-LOGIT_CLIP);
    // Each low-res cell takes the signed distance at its centre pixel, when that lies in the window.
    const lr0 = Math.max(0, Math.floor(win.row0 / LOWRES_FACTOR) - 1);
    const lc0 = Math.max(0, Math.floor(win.col0 / LOWRES_FACTOR) - 1);
    for (let lr = lr0; lr < lh; lr++) {
      const r = Math.min(e.height - 1, Math.floor((lr + 0.5) * LOWRES_FACTOR)) - win.row0;
      if (r >= win.h) break;
      if (r < 0) continue;
      for (let lc = lc0; lc < lw; lc++) {
        const c = Math.min(e.width - 1, Math.floor((lc + 0.5) * LOWRES_FACTOR)) - win.col0;
        if (c >= win.w) break;
        if (c < 0) continue;
        logits[lr * lw + lc] = Math.max(-LOGIT_CLIP, Math.min(LOGIT_CLIP, cand.signed[r * win.w + c]));
      }
    }
    lowRes.push({ data: logits, height: lh, width: lw });
  }
  return {
    masks,
    scores: Float32Array.from(chosen, (c) => c.score),
    lowRes,
    bestPoints: chosen.map((c) => ({ x: c.best.col, y: c.best.row })),
  };
}
