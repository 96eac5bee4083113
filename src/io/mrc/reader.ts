/**
 * Random access to an MRC file's voxels as float32 in canonical (z, y, x) order, without loading
 * the whole file: slabs of sections and single slices along any axis, read with positional reads.
 * Limitations: gzip/bzip2 files are decompressed into memory when opened (into one buffer of the
 * size their header promises, see source.ts); files with permuted axes (mapc/mapr/maps ≠ 1,2,3:
 * small crystallographic maps in practice) are decoded whole on the first slab or slice. Slabs and slices are not checked for NaN (readVolume is).
 */
import path from 'node:path';
import { CryosamError } from '../../errors.js';
import type { Axis, Volume } from '../../volume/volume.js';
import { voxelCount } from '../../volume/volume.js';
import { canonicalStrides, copyVoxels, firstNonFinite, scatterVoxels, toHostOrder } from './decode.js';
import { HEADER_BYTES, MODE_BYTES, type MrcHeader } from './header.js';
import { openSource, type ByteSource } from './source.js';
import { describeLayout, mrcFileSize, readMrcHeaderBytes } from './validate.js';

/** Bytes converted per step: large enough for fast reads, small enough not to matter for memory. */
const CHUNK_BYTES = 16 << 20;
/** Default bytes of sections read together when gathering an x slice (a column of every row of every section). */
const X_SLICE_BATCH_BYTES = 64 << 20;

export interface ReadMrcOptions {
  /** Accept NaN and ±Infinity voxels instead of throwing (default false). */
  allowNonFinite?: boolean;
}

export interface MrcReaderOptions {
  /** Memory for gathering x slices, which need whole sections: bytes read per batch (default 64 MiB). */
  xSliceBatchBytes?: number;
}

export interface MrcSlice {
  data: Float32Array;
  height: number;
  width: number;
}

export class MrcReader {
  /** The whole volume, decoded once, for files whose axes are permuted (small maps in practice). */
  private permuted?: Promise<Float32Array>;

  private constructor(
    private readonly source: ByteSource,
    readonly header: MrcHeader,
    readonly path: string,
    private readonly xSliceBatchBytes: number,
  ) {}

  /** Opens and validates `file`; throws CryosamError naming it when it is not a readable MRC file. */
  static async open(file: string, options: MrcReaderOptions = {}): Promise<MrcReader> {
    const isStack = path.extname(file).toLowerCase() === '.mrcs';
    // Compressed files: the header from the first decompressed bytes decides how much is decompressed.
    const source = await openSource(file, (first, ended) => {
      const h = readMrcHeaderBytes(first, ended ? first.byteLength : undefined, file, isStack);
      return { size: mrcFileSize(h), layout: describeLayout(h) };
    });
    try {
      const bytes = new Uint8Array(Math.min(HEADER_BYTES, source.size));
      await source.read(bytes, 0);
      const header = readMrcHeaderBytes(bytes, source.size, file, isStack);
      return new MrcReader(source, header, file, options.xSliceBatchBytes ?? X_SLICE_BATCH_BYTES);
    } catch (err) {
      await source.close();
      throw err;
    }
  }

  /**
   * The whole volume as float32. Plain float32 files are read straight into the result's buffer
   * (peak memory ≈ the data size); other modes are converted chunk by chunk.
   */
  async readVolume(options: ReadMrcOptions = {}): Promise<Volume> {
    const h = this.header;
    let data: Float32Array;
    if (this.isCanonical()) {
      data = this.floats(voxelCount(h.shape));
      await this.readVoxels(0, data.length, data, 0);
    } else {
      data = await this.decodePermuted();
    }
    if (!options.allowNonFinite && (h.mode === 2 || h.mode === 12)) {
      const bad = firstNonFinite(data);
      if (bad >= 0) {
        const [, ny, nx] = h.shape;
        throw new CryosamError(
          `voxel (x=${bad % nx}, y=${Math.floor(bad / nx) % ny}, z=${Math.floor(bad / (nx * ny))}) is ${data[bad]}: ` +
            'the data contain NaN or infinite values',
          this.path,
        );
      }
    }
    return { data, shape: h.shape, voxelSize: { ...h.voxelSize }, origin: { ...h.origin } };
  }

  /** Sections z0 ≤ z < z1 as one (z1 - z0) × ny × nx array. */
  async readSlab(z0: number, z1: number): Promise<Float32Array> {
    const [nz, ny, nx] = this.header.shape;
    if (!(Number.isInteger(z0) && Number.isInteger(z1) && 0 <= z0 && z0 <= z1 && z1 <= nz)) {
      throw new CryosamError(`sections [${z0}, ${z1}) are outside 0..${nz}`, this.path);
    }
    const count = (z1 - z0) * ny * nx;
    if (!this.isCanonical()) return (await this.permutedVolume()).slice(z0 * ny * nx, z0 * ny * nx + count);
    const out = this.floats(count);
    await this.readVoxels(z0 * ny * nx, count, out, 0);
    return out;
  }

  /**
   * One slice through the volume, row-major: axis z → rows y, columns x; axis y → rows z,
   * columns x; axis x → rows z, columns y.
   */
  async readSlice(axis: Axis, index: number): Promise<MrcSlice> {
    const [nz, ny, nx] = this.header.shape;
    const size = axis === 'z' ? nz : axis === 'y' ? ny : nx;
    if (!(Number.isInteger(index) && index >= 0 && index < size)) {
      throw new CryosamError(`slice ${axis} = ${index} is outside 0..${size - 1}`, this.path);
    }
    if (axis === 'z') return { data: await this.readSlab(index, index + 1), height: ny, width: nx };
    const out = this.floats(nz * (axis === 'y' ? nx : ny));
    if (!this.isCanonical()) {
      const all = await this.permutedVolume();
      for (let z = 0; z < nz; z++) {
        if (axis === 'y') out.set(all.subarray((z * ny + index) * nx, (z * ny + index + 1) * nx), z * nx);
        else for (let y = 0; y < ny; y++) out[z * ny + y] = all[(z * ny + y) * nx + index];
      }
    } else if (axis === 'y') {
      // Each row is contiguous in the file: one positional read per section.
      for (let z = 0; z < nz; z++) await this.readVoxels((z * ny + index) * nx, nx, out, z * nx);
    } else {
      // A column touches every row, so whole sections are read, a batch at a time.
      const batch = Math.max(1, Math.floor(this.xSliceBatchBytes / (ny * nx * 4)));
      const slab = this.floats(Math.min(batch, nz) * ny * nx);
      for (let z0 = 0; z0 < nz; z0 += batch) {
        const z1 = Math.min(nz, z0 + batch);
        await this.readVoxels(z0 * ny * nx, (z1 - z0) * ny * nx, slab, 0);
        for (let z = z0; z < z1; z++) {
          const base = (z - z0) * ny * nx + index;
          for (let y = 0; y < ny; y++) out[z * ny + y] = slab[base + y * nx];
        }
      }
    }
    return { data: out, height: nz, width: axis === 'y' ? nx : ny };
  }

  close(): Promise<void> {
    return this.source.close();
  }

  /** A float32 array of `count` voxels; a CryosamError naming the file when it cannot be had (too long for one array, or no memory). */
  private floats(count: number): Float32Array {
    try {
      return new Float32Array(count);
    } catch (err) {
      throw new CryosamError(
        `cannot hold ${count} voxels (${((count * 4) / 2 ** 30).toFixed(1)} GiB as float32) in memory at once: ${(err as Error).message}`,
        this.path,
      );
    }
  }

  private isCanonical(): boolean {
    return canonicalStrides(this.header).identity;
  }

  /** Reads file voxels [first, first + count) of a canonical-order file into out[outStart...]. */
  private async readVoxels(first: number, count: number, out: Float32Array, outStart: number): Promise<void> {
    const h = this.header;
    const width = MODE_BYTES[h.mode];
    const position = h.dataOffset + first * width;
    if (h.mode === 2) {
      // float32: the file bytes are the result; read them in place and fix the byte order.
      const target = new Uint8Array(out.buffer, out.byteOffset + outStart * 4, count * 4);
      for (let done = 0; done < target.byteLength; done += CHUNK_BYTES) {
        const chunk = target.subarray(done, Math.min(target.byteLength, done + CHUNK_BYTES));
        await this.source.read(chunk, position + done);
        toHostOrder(chunk, h);
      }
      return;
    }
    await this.decodeChunks(first, count, (chunk, done) => copyVoxels(chunk, h, out, outStart + done));
  }

  /** Reads file voxels [first, first + count) a chunk at a time, in host byte order, and hands each to `sink`. */
  private async decodeChunks(first: number, count: number, sink: (chunk: Uint8Array, done: number) => void): Promise<void> {
    const h = this.header;
    const width = MODE_BYTES[h.mode];
    const scratch = new Uint8Array(Math.min(CHUNK_BYTES, count * width));
    for (let done = 0; done < count; ) {
      const n = Math.min(count - done, scratch.byteLength / width);
      const chunk = scratch.subarray(0, n * width);
      await this.source.read(chunk, h.dataOffset + (first + done) * width);
      toHostOrder(chunk, h);
      sink(chunk, done);
      done += n;
    }
  }

  /** The reader's decoded copy of a permuted-axes map, made on first use. */
  private permutedVolume(): Promise<Float32Array> {
    this.permuted ??= this.decodePermuted();
    return this.permuted;
  }

  /** Decodes the whole file of a permuted-axes map into canonical order. */
  private async decodePermuted(): Promise<Float32Array> {
    const strides = canonicalStrides(this.header);
    const out = this.floats(voxelCount(this.header.shape));
    await this.decodeChunks(0, out.length, (chunk, done) => scatterVoxels(chunk, this.header, done, strides, out));
    return out;
  }
}
