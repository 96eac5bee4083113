/**
 * Weight-free patch features: a bank of rotation-invariant, multi-scale filter responses, average-
 * pooled to a stride, so that cosine similarity between grid cells compares local shape.
 *
 * Per scale σ (slice pixels): Gaussian-smoothed intensity, gradient magnitude, and both Hessian
 * eigenvalues (blob vs ridge, dark vs bright at that scale); plus the local standard deviation
 * (texture) at the two finest scales. With the default σ ∈ {1, 2, 4, 8}: 18 channels.
 *
 * Centring matters for cosine similarity: every channel is standardised per slice to median 0 and
 * robust σ 1 (IQR / 1.349). Background (the majority of cells) then maps near the origin, where
 * cosine similarity is small and random, while particles point in directions set by their profile
 * across scales (a small dark disc and a large one differ in which scales respond; a ring has a bright
 * centre at small scales). Per-slice statistics keep each slice's features independent of the
 * batch it is extracted in (so they can be cached) and equalise the differing noise of xy, xz and
 * yz slices (missing wedge).
 *
 * Speed: work runs at half resolution when the stride allows (the stride pooling discards that
 * detail anyway), scales are reached by cascaded smoothing (each step only adds the missing σ),
 * and all buffers are per slice.
 */
import type { EngineIdentity, FeatureExtractor, FeatureGrid, Slice2D } from '../types.js';
import { CryosamError } from '../../errors.js';
import { gaussianFilter2d } from '../../volume/gaussian.js';
import { downsampleSlice } from '../../volume/resample.js';
import { percentiles } from '../../volume/stats.js';

export interface ClassicalFeaturesOptions {
  /** Slice pixels per feature cell (default 4). */
  stride?: number;
  /** Smoothing scales σ in slice pixels, fine to coarse (default [1, 2, 4, 8]). */
  scales?: number[];
}

/** Scales (count, from the finest) that also get a local standard deviation channel. */
const TEXTURE_SCALES = 2;
/** Cells sampled per channel for the standardisation percentiles. */
const STANDARDISE_SAMPLES = 8192;
const IQR_PER_SIGMA = 1.3489795;

export class ClassicalFeatures implements FeatureExtractor {
  private readonly stride: number;
  private readonly scales: number[];
  /** Work resolution divisor: 2 when the stride is even (pooling to the stride hides that detail). */
  private readonly work: number;

  constructor(options: ClassicalFeaturesOptions = {}) {
    this.stride = options.stride ?? 4;
    this.scales = [...(options.scales ?? [1, 2, 4, 8])];
    if (!Number.isInteger(this.stride) || this.stride < 1) {
      throw new CryosamError(`classical features: stride must be a positive integer (got ${this.stride})`);
    }
    if (this.scales.length === 0 || this.scales.some((s, i) => !(s > 0) || (i > 0 && s <= this.scales[i - 1]))) {
      throw new CryosamError(`classical features: scales must be positive and increasing (got ${this.scales.join(', ')})`);
    }
    this.work = this.stride % 2 === 0 ? 2 : 1;
  }

  /** Channels per cell. */
  get channels(): number {
    return 4 * this.scales.length + Math.min(TEXTURE_SCALES, this.scales.length);
  }

  identity(): EngineIdentity {
    return {
      name: 'classical-features',
      params: { stride: this.stride, scales: [...this.scales], workDivisor: this.work, textureScales: TEXTURE_SCALES, standardise: 'per-slice median/IQR' },
    };
  }

  async extract(slices: Slice2D[]): Promise<FeatureGrid[]> {
    return slices.map((s) => this.extractOne(s));
  }

  async dispose(): Promise<void> {}

  private extractOne(slice: Slice2D): FeatureGrid {
    if (slice.data.length !== slice.height * slice.width) {
      throw new CryosamError(`slice data holds ${slice.data.length} values, expected ${slice.height}×${slice.width}`);
    }
    const base = downsampleSlice(slice, this.work);
    const { height: h, width: w } = base;
    const gh = Math.ceil(slice.height / this.stride);
    const gw = Math.ceil(slice.width / this.stride);
    const channels = this.channels;
    const pool = new Pooler(h, w, gh, gw, this.stride / this.work, channels);
    const grad = new Float32Array(h * w);
    const major = new Float32Array(h * w);
    const minor = new Float32Array(h * w);
    let smooth = base;
    let squares: Slice2D = { data: Float32Array.from(base.data, (v) => v * v), height: h, width: w };
    let reached = 0;
    let ch = 0;
    for (let k = 0; k < this.scales.length; k++) {
      const sigma = this.scales[k] / this.work;
      // Cascade: G_σ = G_√(σ² − σ_prev²) ∗ G_σ_prev (the first step writes a new array, then in place).
      const step = Math.sqrt(sigma * sigma - reached * reached);
      smooth = gaussianFilter2d(smooth, step, k === 0 ? undefined : smooth.data);
      const g = smooth.data;
      pool.add(g, ch++);
      hessianAndGradient(g, h, w, grad, major, minor);
      pool.add(grad, ch++);
      pool.add(major, ch++);
      pool.add(minor, ch++);
      if (k < TEXTURE_SCALES) {
        squares = gaussianFilter2d(squares, step, k === 0 ? undefined : squares.data);
        for (let i = 0; i < h * w; i++) grad[i] = Math.sqrt(Math.max(0, squares.data[i] - g[i] * g[i]));
        pool.add(grad, ch++);
      }
      reached = sigma;
    }
    const grid = pool.finish();
    standardise(grid, gh * gw, channels);
    return { data: grid, height: gh, width: gw, channels, stride: this.stride };
  }
}

/**
 * Gradient magnitude and Hessian eigenvalues (major ≥ minor) of a smoothed image by central
 * differences; borders repeat the edge pixel.
 */
function hessianAndGradient(g: Float32Array, h: number, w: number, grad: Float32Array, major: Float32Array, minor: Float32Array): void {
  for (let r = 0; r < h; r++) {
    const row = r * w;
    const up = (r > 0 ? r - 1 : r) * w;
    const dn = (r < h - 1 ? r + 1 : r) * w;
    for (let c = 0; c < w; c++) {
      const lf = c > 0 ? c - 1 : c;
      const rt = c < w - 1 ? c + 1 : c;
      const v2 = 2 * g[row + c];
      const dx = 0.5 * (g[row + rt] - g[row + lf]);
      const dy = 0.5 * (g[dn + c] - g[up + c]);
      const dxx = g[row + rt] - v2 + g[row + lf];
      const dyy = g[dn + c] - v2 + g[up + c];
      const dxy = 0.25 * (g[dn + rt] - g[dn + lf] - g[up + rt] + g[up + lf]);
      const mean = 0.5 * (dxx + dyy);
      const spread = Math.sqrt(0.25 * (dxx - dyy) * (dxx - dyy) + dxy * dxy);
      grad[row + c] = Math.sqrt(dx * dx + dy * dy);
      major[row + c] = mean + spread;
      minor[row + c] = mean - spread;
    }
  }
}

/** Average-pools work-resolution maps into the channel-last grid, one channel at a time. */
class Pooler {
  private readonly grid: Float32Array;
  private readonly cellOfRow: Int32Array;
  private readonly cellOfCol: Int32Array;
  private readonly inverseCount: Float32Array;

  constructor(
    private readonly h: number,
    private readonly w: number,
    private readonly gh: number,
    private readonly gw: number,
    cellPx: number,
    private readonly channels: number,
  ) {
    this.grid = new Float32Array(gh * gw * channels);
    this.cellOfRow = Int32Array.from({ length: h }, (_, r) => Math.min(gh - 1, Math.floor(r / cellPx)));
    this.cellOfCol = Int32Array.from({ length: w }, (_, c) => Math.min(gw - 1, Math.floor(c / cellPx)));
    const counts = new Float32Array(gh * gw);
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) counts[this.cellOfRow[r] * gw + this.cellOfCol[c]]++;
    this.inverseCount = Float32Array.from(counts, (n) => (n > 0 ? 1 / n : 0));
  }

  add(map: Float32Array, channel: number): void {
    const { grid, channels, w, gw } = this;
    for (let r = 0; r < this.h; r++) {
      const cellRow = this.cellOfRow[r] * gw;
      for (let c = 0; c < w; c++) grid[(cellRow + this.cellOfCol[c]) * channels + channel] += map[r * w + c];
    }
  }

  finish(): Float32Array {
    const { grid, channels } = this;
    for (let cell = 0; cell < this.gh * this.gw; cell++) {
      const inv = this.inverseCount[cell];
      for (let ch = 0; ch < channels; ch++) grid[cell * channels + ch] *= inv;
    }
    return grid;
  }
}

/** Per channel: median 0, robust σ 1 (IQR / 1.349; the full spread when the IQR is 0). */
function standardise(grid: Float32Array, cells: number, channels: number): void {
  const values = new Float32Array(cells);
  for (let ch = 0; ch < channels; ch++) {
    for (let i = 0; i < cells; i++) values[i] = grid[i * channels + ch];
    const [lo, q1, median, q3, hi] = percentiles(values, [0, 25, 50, 75, 100], STANDARDISE_SAMPLES);
    let scale = (q3 - q1) / IQR_PER_SIGMA;
    if (!(scale > 0)) scale = hi - lo;
    const inv = scale > 0 ? 1 / scale : 0;
    for (let i = 0; i < cells; i++) grid[i * channels + ch] = (values[i] - median) * inv;
  }
}
