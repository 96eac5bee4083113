/**
 * The classical segmenter's per-slice embedding: a denoised contrast map in noise units,
 * contrast = (G_σ ∗ slice − local background) / noise, where the background is the median of the
 * smoothed slice in coarse blocks (bilinearly interpolated) and the noise is the robust σ of the
 * smoothed slice about it. Particles are a minority of pixels, so both medians describe the
 * solvent/ice. Decoding then only needs local reads of this one map.
 */
import type { Slice2D, SliceEmbedding } from '../types.js';
import { CryosamError } from '../../errors.js';
import { gaussianFilter2d } from '../../volume/gaussian.js';
import { percentiles } from '../../volume/stats.js';

/**
 * Stored as int8 with one scale per slice (value = code × scale): a quarter of float32, so the
 * embeddings of every slice of a 200×512×512 tomogram fit in the pipeline's in-memory store. The
 * scale maps the 99.9th percentile of |contrast| to code 100, so a gold fiducial cannot coarsen the
 * particles' levels (brighter pixels clip at 127); decoding compares contrasts with fractions of a
 * particle's core level, which this resolution (1% of the range) does not change.
 */
export class ClassicalEmbedding implements SliceEmbedding {
  constructor(
    readonly height: number,
    readonly width: number,
    /** height × width, row-major, contrast / scale rounded. */
    readonly codes: Int8Array,
    /** Noise-σ units per code. */
    readonly scale: number,
  ) {}

  get byteLength(): number {
    return this.codes.byteLength;
  }

  /** Contrast at a pixel in units of the smoothed slice's noise σ (0 = background). */
  contrast(i: number): number {
    return this.codes[i] * this.scale;
  }
}

function quantise(height: number, width: number, contrast: Float32Array): ClassicalEmbedding {
  const [high] = percentiles(sampleAbs(contrast, 0), [99.9]);
  const scale = high > 0 ? high / 100 : 1;
  const codes = new Int8Array(contrast.length);
  for (let i = 0; i < contrast.length; i++) codes[i] = Math.max(-127, Math.min(127, Math.round(contrast[i] / scale)));
  return new ClassicalEmbedding(height, width, codes, scale);
}

/** MAD → σ for Gaussian noise. */
const MAD_PER_SIGMA = 1.4826;
/** Pixels sampled per background block (every other row and column): medians need no more. */
const BLOCK_SAMPLE_STEP = 2;

/** Median of the smoothed slice in a grid of blocks about `block` pixels wide. */
function blockMedians(s: Slice2D, block: number): { grid: Float32Array; rows: number; cols: number } {
  const rows = Math.max(1, Math.round(s.height / block));
  const cols = Math.max(1, Math.round(s.width / block));
  const grid = new Float32Array(rows * cols);
  const buf = new Float32Array(Math.ceil(s.height / rows + 1) * Math.ceil(s.width / cols + 1));
  for (let br = 0; br < rows; br++) {
    const r0 = Math.floor((br * s.height) / rows);
    const r1 = Math.floor(((br + 1) * s.height) / rows);
    for (let bc = 0; bc < cols; bc++) {
      const c0 = Math.floor((bc * s.width) / cols);
      const c1 = Math.floor(((bc + 1) * s.width) / cols);
      let n = 0;
      for (let r = r0; r < r1; r += BLOCK_SAMPLE_STEP) {
        for (let c = c0; c < c1; c += BLOCK_SAMPLE_STEP) buf[n++] = s.data[r * s.width + c];
      }
      grid[br * cols + bc] = percentiles(buf.subarray(0, n), [50])[0];
    }
  }
  return { grid, rows, cols };
}

/** Bilinear interpolation between block centres: lower block index and fraction for each position. */
function interpolationAxis(n: number, blocks: number): { lo: Int32Array; t: Float32Array } {
  const lo = new Int32Array(n);
  const t = new Float32Array(n);
  if (blocks === 1) return { lo, t };
  for (let i = 0; i < n; i++) {
    const u = Math.min(blocks - 1, Math.max(0, ((i + 0.5) * blocks) / n - 0.5));
    lo[i] = Math.min(blocks - 2, Math.floor(u));
    t[i] = u - lo[i];
  }
  return { lo, t };
}

export function embedSlice(slice: Slice2D, sigma: number, backgroundBlock: number): ClassicalEmbedding {
  const { height, width } = slice;
  if (slice.data.length !== height * width) {
    throw new CryosamError(`slice data holds ${slice.data.length} values, expected ${height}×${width}`);
  }
  const smooth = gaussianFilter2d(slice, sigma);
  const { grid, rows, cols } = blockMedians(smooth, backgroundBlock);
  const ry = interpolationAxis(height, rows);
  const cx = interpolationAxis(width, cols);
  const contrast = smooth.data;
  const at = (r: number, c: number): number => grid[Math.min(r, rows - 1) * cols + Math.min(c, cols - 1)];
  for (let r = 0; r < height; r++) {
    const r0 = ry.lo[r];
    const tr = ry.t[r];
    for (let c = 0; c < width; c++) {
      const c0 = cx.lo[c];
      const tc = cx.t[c];
      const top = at(r0, c0) * (1 - tc) + at(r0, c0 + 1) * tc;
      const bottom = at(r0 + 1, c0) * (1 - tc) + at(r0 + 1, c0 + 1) * tc;
      contrast[r * width + c] -= top * (1 - tr) + bottom * tr;
    }
  }
  const [q1, median, q3] = percentiles(contrast, [25, 50, 75], 65536);
  let noise = MAD_PER_SIGMA * percentiles(sampleAbs(contrast, median), [50])[0];
  // A constant or binary-like slice has no spread about its median; fall back to the IQR, then to 1.
  if (!(noise > 0)) noise = (q3 - q1) / 1.349;
  if (!(noise > 0)) noise = 1;
  const inv = 1 / noise;
  for (let i = 0; i < contrast.length; i++) contrast[i] = (contrast[i] - median) * inv;
  return quantise(height, width, contrast);
}

/** |x − m| at a fixed stride, at most ~65k values: the MAD needs no more. */
function sampleAbs(data: Float32Array, m: number): Float32Array {
  const step = Math.max(1, Math.floor(data.length / 65536));
  const out = new Float32Array(Math.ceil(data.length / step));
  for (let i = 0, k = 0; i < data.length; i += step) out[k++] = Math.abs(data[i] - m);
  return out;
}

// "CSE3" little-endian: classical segmenter embedding, version 3 (int8 codes, float64 scale, so that
// an embedding read from the cache decodes exactly as the one computed; older entries are rebuilt).
const MAGIC = 0x33455343;
const HEADER_BYTES = 20;

export function serializedEmbeddingBytes(height: number, width: number): number {
  return HEADER_BYTES + height * width;
}

export function serializeEmbedding(e: ClassicalEmbedding): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + e.codes.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, e.height, true);
  view.setUint32(8, e.width, true);
  view.setFloat64(12, e.scale, true);
  bytes.set(new Uint8Array(e.codes.buffer, e.codes.byteOffset, e.codes.length), HEADER_BYTES);
  return bytes;
}

export function deserializeEmbedding(bytes: Uint8Array): ClassicalEmbedding {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEADER_BYTES || view.getUint32(0, true) !== MAGIC) {
    throw new CryosamError('not a classical-segmenter embedding (bad magic number)');
  }
  const height = view.getUint32(4, true);
  const width = view.getUint32(8, true);
  if (bytes.byteLength !== HEADER_BYTES + height * width) {
    throw new CryosamError(`classical-segmenter embedding of ${height}×${width} has ${bytes.byteLength} bytes (truncated?)`);
  }
  // quantise() always writes a finite scale > 0; anything else would turn every contrast into NaN or 0.
  const scale = view.getFloat64(12, true);
  if (height < 1 || width < 1 || !(scale > 0 && scale < Infinity)) {
    throw new CryosamError(`classical-segmenter embedding of ${height}×${width} with scale ${scale} (corrupt header)`);
  }
  // A view, not a copy: embeddings shared between threads stay in their shared buffer.
  const codes = new Int8Array(bytes.buffer, bytes.byteOffset + HEADER_BYTES, height * width);
  return new ClassicalEmbedding(height, width, codes, scale);
}
