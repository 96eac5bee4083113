/**
 * Turns raw MRC voxel bytes into float32, in place where the bytes already are float32.
 * Works on chunks so huge files never need a second whole-volume buffer.
 */
import os from 'node:os';
import { MODE_BYTES, type MrcHeader } from './header.js';

const HOST_LITTLE_ENDIAN = os.endianness() === 'LE';

let float16Table: Float32Array | undefined;

/** All 65536 half-precision values, so decoding float16 is one table look-up per voxel. */
function halfToFloat(): Float32Array {
  if (float16Table) return float16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    table[h] =
      exponent === 0
        ? sign * fraction * 2 ** -24
        : exponent === 31
          ? fraction === 0
            ? sign * Infinity
            : NaN
          : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  float16Table = table;
  return table;
}

/** Reverses the byte order of each voxel in `bytes` (length a multiple of the voxel size) when the file's differs from the host's. */
export function toHostOrder(bytes: Uint8Array, header: MrcHeader): void {
  const width = MODE_BYTES[header.mode];
  if (header.littleEndian === HOST_LITTLE_ENDIAN || width === 1) return;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (width === 2) buf.swap16();
  else buf.swap32();
}

/**
 * The voxels in `bytes` (host byte order, byteOffset aligned to the voxel size) as a typed
 * array whose values are the densities; float16 comes back as raw Uint16 codes (see copyVoxels).
 */
function voxelView(bytes: Uint8Array, header: MrcHeader): Int8Array | Uint8Array | Int16Array | Uint16Array | Float32Array {
  const { buffer, byteOffset, byteLength } = bytes;
  switch (header.mode) {
    case 0:
      return header.int8Unsigned ? bytes : new Int8Array(buffer, byteOffset, byteLength);
    case 1:
      return new Int16Array(buffer, byteOffset, byteLength / 2);
    case 6:
    case 12:
      return new Uint16Array(buffer, byteOffset, byteLength / 2);
    default:
      return new Float32Array(buffer, byteOffset, byteLength / 4);
  }
}

/**
 * Converts `bytes` (host byte order) to densities in `out`, starting at `out[outStart]`.
 * Uses TypedArray.set (native conversion) except for float16, which goes through a table.
 */
export function copyVoxels(bytes: Uint8Array, header: MrcHeader, out: Float32Array, outStart: number): void {
  const voxels = voxelView(bytes, header);
  if (header.mode !== 12) {
    out.set(voxels, outStart);
    return;
  }
  const table = halfToFloat();
  for (let k = 0; k < voxels.length; k++) out[outStart + k] = table[voxels[k]];
}

/**
 * Where voxel (section, row, column) of the file lands in the canonical (z, y, x) array:
 * out index = s * sections + r * rows + c * columns.
 */
export interface CanonicalStrides {
  sections: number;
  rows: number;
  columns: number;
  /** mapc/mapr/maps = 1,2,3: file order already is canonical order. */
  identity: boolean;
}

export function canonicalStrides(header: MrcHeader): CanonicalStrides {
  const [, ny, nx] = header.shape;
  const strideOf = (axis: number) => (axis === 1 ? 1 : axis === 2 ? nx : nx * ny);
  return {
    sections: strideOf(header.maps),
    rows: strideOf(header.mapr),
    columns: strideOf(header.mapc),
    identity: header.mapc === 1 && header.mapr === 2 && header.maps === 3,
  };
}

/**
 * Like copyVoxels for a file whose axes are permuted: the voxels of `bytes` are file voxels
 * firstVoxel, firstVoxel+1, ...; each goes to its canonical position in `out`.
 */
export function scatterVoxels(
  bytes: Uint8Array,
  header: MrcHeader,
  firstVoxel: number,
  strides: CanonicalStrides,
  out: Float32Array,
): void {
  const voxels = voxelView(bytes, header);
  const table = header.mode === 12 ? halfToFloat() : undefined;
  const { nx, ny } = header;
  let c = firstVoxel % nx;
  let r = Math.floor(firstVoxel / nx) % ny;
  let s = Math.floor(firstVoxel / (nx * ny));
  for (let k = 0; k < voxels.length; k++) {
    out[s * strides.sections + r * strides.rows + c * strides.columns] = table ? table[voxels[k]] : voxels[k];
    if (++c === nx) {
      c = 0;
      if (++r === ny) {
        r = 0;
        s++;
      }
    }
  }
}

/** Index of the first NaN or ±Infinity in `data`, or -1. */
export function firstNonFinite(data: Float32Array): number {
  for (let k = 0; k < data.length; k++) {
    const v = data[k];
    if (v - v !== 0) return k;
  }
  return -1;
}
