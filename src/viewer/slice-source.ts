/**
 * Raw slices of the tomogram file for display. XY and XZ slices come straight from the reader (a
 * section, or one row per section). A YZ slice needs one column of every row, so the whole file
 * is read for it; the columns of the neighbouring YZ slices are gathered in the same pass, so
 * stepping through x stays fast.
 *
 * Every slice is checked for NaN and infinite voxels, the check readMrc makes for the CLI over the
 * whole file: the viewer reads lazily, so it checks what it reads, and a slice it serves is finite.
 */
import type { MrcReader } from '../io/mrc/index.js';
import { firstNonFinite } from '../io/mrc/decode.js';
import { sliceToVoxel, type Slice2D } from '../volume/slice.js';
import type { Axis } from '../volume/volume.js';
import { HttpError } from './http.js';
import { ByteLru } from '../lru.js';

/** Why `slice` (number `index` along `axis`) cannot be used, naming its first non-finite voxel; undefined when all are finite. */
export function nonFiniteVoxel(slice: Slice2D, axis: Axis, index: number): string | undefined {
  const k = firstNonFinite(slice.data);
  if (k < 0) return undefined;
  const v = sliceToVoxel(axis, index, Math.floor(k / slice.width), k % slice.width);
  return `voxel (x=${v.x}, y=${v.y}, z=${v.z}) is ${slice.data[k]}: the data contain NaN or infinite values`;
}

/** YZ slices gathered on each side of the one asked for. */
const X_BAND = 8;
/** Bytes read per step while gathering YZ slices: small reads measured ~4× faster than 64 MiB ones. */
const SLAB_BYTES = 4 << 20;
/** Memory for gathered YZ slices. */
const X_CACHE_BYTES = 256 << 20;

export class SliceSource {
  private readonly xSlices = new ByteLru<Promise<Slice2D>>(X_CACHE_BYTES);

  constructor(private readonly reader: MrcReader) {}

  read(axis: Axis, index: number): Promise<Slice2D> {
    if (axis !== 'x') return this.reader.readSlice(axis, index).then((slice) => this.finite(slice, axis, index));
    const cached = this.xSlices.get(String(index));
    if (cached) return cached;
    const [nz, ny, nx] = this.reader.header.shape;
    const x0 = Math.max(0, index - X_BAND);
    const x1 = Math.min(nx, index + X_BAND + 1);
    const band = this.readBand(x0, x1);
    for (let x = x0; x < x1; x++) {
      const slice = band.then((slices) => this.finite(slices[x - x0], 'x', x));
      // A failed read must not stay cached.
      slice.catch(() => this.xSlices.delete(String(x)));
      this.xSlices.set(String(x), slice, nz * ny * 4);
    }
    return this.xSlices.get(String(index))!;
  }

  /** `slice`, unless it holds a NaN or infinite voxel: then 422 naming the file (the request was fine, the file is not). */
  private finite(slice: Slice2D, axis: Axis, index: number): Slice2D {
    const problem = nonFiniteVoxel(slice, axis, index);
    if (problem) throw new HttpError(422, `${this.reader.path}: ${problem}`);
    return slice;
  }

  /** YZ slices x0..x1-1 (rows z, columns y), from one pass over the sections. */
  private async readBand(x0: number, x1: number): Promise<Slice2D[]> {
    const [nz, ny, nx] = this.reader.header.shape;
    const slices = Array.from({ length: x1 - x0 }, () => ({ data: new Float32Array(nz * ny), height: nz, width: ny }));
    const batch = Math.max(1, Math.floor(SLAB_BYTES / (ny * nx * 4)));
    for (let z0 = 0; z0 < nz; z0 += batch) {
      const z1 = Math.min(nz, z0 + batch);
      const slab = await this.reader.readSlab(z0, z1);
      for (let z = z0; z < z1; z++) {
        for (let y = 0; y < ny; y++) {
          const row = ((z - z0) * ny + y) * nx;
          const out = z * ny + y;
          for (let x = x0; x < x1; x++) slices[x - x0].data[out] = slab[row + x];
        }
      }
    }
    return slices;
  }
}
