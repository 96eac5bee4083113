/**
 * The per-voxel feature volume of CryoSAM step 2 without materialising D×H×W×C: the encoder's patch
 * grids of every s-th slice along z, y and x are kept per axis (one Float32Array each), and the
 * concatenated feature of a voxel is sampled on demand (bilinear within a slice, linear across
 * encoded slices). Grid cells are L2-normalised per axis so that each axis weighs the same in the
 * concatenation.
 *
 * Cells are held as int8 codes with one scale per cell (value = code × scale, the cell's largest
 * |value| at code 127): a quarter of float32, so the grids of a 200×512×512 tomogram take 0.26× its
 * float32 size instead of 0.84× (DINOv2's 384 channels: 0.37× instead of 1.5×). On unit-length cells
 * the rounding moves a cosine similarity by about 1e-3, far below the 0.5 similarity threshold's
 * margin and the spread of particles' similarities.
 */
import type { FeatureExtractor, FeatureGrid } from '../engines/types.js';
import type { ProgressCallback } from '../progress.js';
import { extractSlice, sliceCount, type Slice2D } from '../volume/slice.js';
import type { Axis, Shape3, Volume } from '../volume/volume.js';
import { cacheKey, type DiskCache } from './cache.js';
import { CryosamError } from '../errors.js';

/** Slices per extractor call: lets ONNX engines batch without holding many slices at once. */
const ENCODE_BATCH = 4;

/** Encoder grids of the encoded slices along one axis. */
export interface AxisGrids {
  axis: Axis;
  /** Encoded slice indices along the axis: offset + k * step. */
  offset: number;
  step: number;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** Slice pixels per grid cell. */
  stride: number;
  /** count × height × width × channels, channel-last: int8 codes. */
  codes: Int8Array;
  /** count × height × width: value of code 1 in each cell. */
  scales: Float32Array;
}

export interface FeatureBuildStats {
  encoderPasses: Record<Axis, number>;
  cacheHits: number;
}


export class FeatureVolume {
  /** Length of the concatenated per-voxel feature. */
  readonly dim: number;
  private readonly offsets: number[];

  private constructor(
    readonly shape: Shape3,
    readonly axes: AxisGrids[],
  ) {
    this.offsets = [];
    let d = 0;
    for (const a of axes) {
      this.offsets.push(d);
      d += a.channels;
    }
    this.dim = d;
  }

  /** Bytes held by the grids. */
  get bytes(): number {
    return this.axes.reduce((s, a) => s + a.codes.byteLength + a.scales.byteLength, 0);
  }

  /**
   * Encodes every `step`-th slice along each axis (from the disk cache when it has them).
   * @param keyPrefix identifies the tomogram content and the extractor identity.
   */
  static async build(
    tomogram: Volume,
    extractor: FeatureExtractor,
    step: number,
    cache: DiskCache | undefined,
    keyPrefix: string,
    onProgress: ProgressCallback,
    axes: readonly Axis[] = ['z', 'y', 'x'],
  ): Promise<{ volume: FeatureVolume; stats: FeatureBuildStats }> {
    if (!Number.isInteger(step) || step < 1) throw new CryosamError(`feature slice step must be a positive integer, got ${step}`);
    const stats: FeatureBuildStats = { encoderPasses: { z: 0, y: 0, x: 0 }, cacheHits: 0 };
    const grids: AxisGrids[] = [];
    for (const axis of axes) {
      const key = cacheKey(keyPrefix, 'features', axis, String(step));
      const cached = await cache?.get(key);
      if (cache && cached) {
        const fromCache = deserializeAxisGrids(cached, axis, encodedSlices(sliceCount(tomogram.shape, axis), step));
        if (typeof fromCache !== 'string') {
          stats.cacheHits++;
          grids.push(fromCache);
          continue;
        }
        // Never used: grids of another slice layout or with broken scales would skew every similarity.
        await cache.discard(key, fromCache);
      }
      const g = await encodeAxis(tomogram, extractor, axis, step, onProgress);
      stats.encoderPasses[axis] = g.count;
      grids.push(g);
      await cache?.put(key, serializeAxisGrids(g));
    }
    return { volume: new FeatureVolume(tomogram.shape, grids), stats };
  }

  /**
   * Adds `weight` × the concatenated feature at continuous voxel position (z, y, x) into out[0..dim).
   */
  accumulate(z: number, y: number, x: number, weight: number, out: Float32Array): void {
    for (let a = 0; a < this.axes.length; a++) {
      const g = this.axes[a];
      const base = this.offsets[a];
      // Slice index along the axis and in-slice (row, col), as in voxelToSlice (inlined: hot loop).
      const s = g.axis === 'z' ? z : g.axis === 'y' ? y : x;
      const row = g.axis === 'z' ? y : z;
      const col = g.axis === 'x' ? y : x;
      // Position among encoded slices, and within the grid (cell centres at (i + 0.5) * stride - 0.5).
      const t = clamp((s - g.offset) / g.step, 0, g.count - 1);
      const r = clamp((row + 0.5) / g.stride - 0.5, 0, g.height - 1);
      const c = clamp((col + 0.5) / g.stride - 0.5, 0, g.width - 1);
      const t0 = Math.floor(t), r0 = Math.floor(r), c0 = Math.floor(c);
      const t1 = Math.min(t0 + 1, g.count - 1), r1 = Math.min(r0 + 1, g.height - 1), c1 = Math.min(c0 + 1, g.width - 1);
      const ft = t - t0, fr = r - r0, fc = c - c0;
      const C = g.channels, d = g.codes;
      for (let k = 0; k < 8; k++) {
        const ti = k & 4 ? t1 : t0, ri = k & 2 ? r1 : r0, ci = k & 1 ? c1 : c0;
        const w = weight * (k & 4 ? ft : 1 - ft) * (k & 2 ? fr : 1 - fr) * (k & 1 ? fc : 1 - fc);
        if (w === 0) continue;
        const cell = (ti * g.height + ri) * g.width + ci;
        const ws = w * g.scales[cell];
        const off = cell * C;
        for (let ch = 0; ch < C; ch++) out[base + ch] += ws * d[off + ch];
      }
    }
  }

  /**
   * Mean feature over the voxel block [z0, z1) × [y0, y1) × [x0, x1), estimated at q³ evenly spaced
   * points (q grows with the block size; features vary no faster than the slice step and grid stride).
   */
  blockMean(z0: number, z1: number, y0: number, y1: number, x0: number, x1: number, out: Float32Array): void {
    out.fill(0, 0, this.dim);
    const q = Math.min(4, Math.max(1, Math.round(Math.max(z1 - z0, y1 - y0, x1 - x0) / 4)));
    const w = 1 / (q * q * q);
    for (let i = 0; i < q; i++) {
      const z = z0 - 0.5 + ((i + 0.5) * (z1 - z0)) / q;
      for (let j = 0; j < q; j++) {
        const y = y0 - 0.5 + ((j + 0.5) * (y1 - y0)) / q;
        for (let k = 0; k < q; k++) this.accumulate(z, y, x0 - 0.5 + ((k + 0.5) * (x1 - x0)) / q, w, out);
      }
    }
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Which of the n slices along an axis are encoded at `step`: offset + k * step, k < count. */
function encodedSlices(n: number, step: number): { offset: number; step: number; count: number } {
  const offset = Math.min(n - 1, Math.floor((step - 1) / 2));
  return { offset, step, count: Math.floor((n - 1 - offset) / step) + 1 };
}

async function encodeAxis(tomogram: Volume, extractor: FeatureExtractor, axis: Axis, step: number, onProgress: ProgressCallback): Promise<AxisGrids> {
  const { offset, count } = encodedSlices(sliceCount(tomogram.shape, axis), step);
  let grids: AxisGrids | undefined;
  const stage = `features ${axis}`;
  onProgress({ stage, done: 0, total: count });
  for (let k0 = 0; k0 < count; k0 += ENCODE_BATCH) {
    const slices: Slice2D[] = [];
    for (let k = k0; k < Math.min(count, k0 + ENCODE_BATCH); k++) slices.push(extractSlice(tomogram, axis, offset + k * step));
    const out = await extractor.extract(slices);
    for (let b = 0; b < out.length; b++) {
      const f = out[b];
      grids ??= {
        axis, offset, step, count, height: f.height, width: f.width, channels: f.channels, stride: f.stride,
        codes: new Int8Array(count * f.height * f.width * f.channels),
        scales: new Float32Array(count * f.height * f.width),
      };
      storeNormalised(grids, k0 + b, f);
    }
    onProgress({ stage, done: Math.min(count, k0 + ENCODE_BATCH), total: count });
  }
  if (!grids) throw new CryosamError(`feature extractor returned no grids along ${axis}`);
  return grids;
}

function storeNormalised(g: AxisGrids, k: number, f: FeatureGrid): void {
  if (f.height !== g.height || f.width !== g.width || f.channels !== g.channels) {
    throw new CryosamError(`feature extractor returned grids of varying size along ${g.axis}`);
  }
  const C = f.channels, cells = f.height * f.width;
  for (let i = 0; i < cells; i++) {
    let s = 0, max = 0;
    for (let ch = 0; ch < C; ch++) {
      const v = f.data[i * C + ch];
      s += v * v;
      max = Math.max(max, Math.abs(v));
    }
    // Unit length, then the largest |value| at code 127: scale = max / (|f| · 127).
    const cell = k * cells + i;
    const scale = s > 0 ? max / (Math.sqrt(s) * 127) : 0;
    g.scales[cell] = scale;
    const inv = scale > 0 ? 1 / (scale * Math.sqrt(s)) : 0;
    for (let ch = 0; ch < C; ch++) g.codes[cell * C + ch] = Math.round(f.data[i * C + ch] * inv);
  }
}

/** "CSF2" little-endian: feature grids, version 2 (int8 codes + per-cell scales); older entries are rebuilt. */
const MAGIC = 0x32465343;
const HEADER_INTS = 8;

function serializeAxisGrids(g: AxisGrids): Uint8Array {
  const scalesAt = HEADER_INTS * 4;
  const codesAt = scalesAt + g.scales.byteLength;
  const out = new Uint8Array(codesAt + g.codes.byteLength);
  new Int32Array(out.buffer, 0, HEADER_INTS).set([MAGIC, g.offset, g.step, g.count, g.height, g.width, g.channels, g.stride]);
  out.set(new Uint8Array(g.scales.buffer, g.scales.byteOffset, g.scales.byteLength), scalesAt);
  out.set(new Uint8Array(g.codes.buffer, g.codes.byteOffset, g.codes.byteLength), codesAt);
  return out;
}

/**
 * Grids from a cache body, or why they cannot be used: the header must describe the slices the
 * reader expects (offset, step, count), sizes must be positive and agree with the byte length, and
 * every scale must be finite and ≥ 0 (0: an all-zero cell).
 */
function deserializeAxisGrids(bytes: Uint8Array, axis: Axis, expected: { offset: number; step: number; count: number }): AxisGrids | string {
  if (bytes.byteLength < HEADER_INTS * 4) return 'feature grids: truncated header';
  // Copy into an aligned buffer: file reads may start at any byte offset.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const [magic, offset, step, count, height, width, channels, stride] = new Int32Array(aligned.buffer, aligned.byteOffset, HEADER_INTS);
  if (magic !== MAGIC) return 'feature grids: not the int8 grid format';
  if (offset !== expected.offset || step !== expected.step || count !== expected.count) {
    return `feature grids of slices ${offset}+k·${step} (${count}), expected ${expected.offset}+k·${expected.step} (${expected.count})`;
  }
  if (!(height > 0 && width > 0 && channels > 0 && stride > 0)) return `feature grids of size ${height}×${width}×${channels}, stride ${stride}`;
  const cells = count * height * width;
  const scalesAt = aligned.byteOffset + HEADER_INTS * 4;
  if (aligned.byteLength !== HEADER_INTS * 4 + cells * 4 + cells * channels) return 'feature grids: byte length differs from the header';
  const scales = new Float32Array(aligned.buffer, scalesAt, cells);
  for (let i = 0; i < cells; i++) if (!(scales[i] >= 0 && scales[i] < Infinity)) return `feature grids: cell scale ${scales[i]}`;
  const codes = new Int8Array(aligned.buffer, scalesAt + cells * 4, cells * channels);
  return { axis, offset, step, count, height, width, channels, stride, codes, scales };
}
