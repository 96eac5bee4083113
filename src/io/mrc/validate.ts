/**
 * Whether a decoded header describes a file this package can read. Kept apart from decoding
 * (as in ccpem/mrcfile) so every rule lives in one place and names the file it rejects.
 */
import { CryosamError } from '../../errors.js';
import type { VoxelSize } from '../../volume/volume.js';
import { isPlausiblePixelSize, PIXEL_SIZE_RULE } from '../pixel-size.js';
import { HEADER_BYTES, isSaneDims, MODE_BYTES, MODE_NAMES, parseMrcHeader, type MrcHeader } from './header.js';
import { sniffFormat } from './sniff.js';

/** "nx×ny×nz mode 2 (float32)", the words every message uses for what the header promises. */
export function describeLayout(h: MrcHeader): string {
  return `${h.nx}×${h.ny}×${h.nz} (columns×rows×sections), mode ${h.mode} (${MODE_NAMES[h.mode] ?? 'unknown'})`;
}

/** Throws CryosamError naming `path` when a file of `fileSize` bytes cannot even hold the header. */
export function checkHeaderFits(fileSize: number, path: string): void {
  if (fileSize < HEADER_BYTES) {
    throw new CryosamError(`truncated MRC file: ${fileSize} bytes, shorter than the ${HEADER_BYTES}-byte header`, path);
  }
}

/** Bytes a file with header `h` has: header, extended header and data. */
export function mrcFileSize(h: MrcHeader): number {
  return h.dataOffset + h.dataBytes;
}

/**
 * Throws CryosamError naming `path` when the header alone cannot describe a readable file:
 * non-MRC content, unknown or unsupported mode, impossible dimensions, axis order or extended
 * header size. The file's size is checked apart (validateHeader), since a compressed file's is
 * only known once it has been decompressed.
 */
export function validateHeaderFields(h: MrcHeader, path: string): void {
  const hasMapStamp = h.map.startsWith('MAP');
  if (!hasMapStamp && !isSaneDims(h.nx, h.ny, h.nz, h.mode)) {
    throw new CryosamError(
      `not an MRC file: no "MAP " stamp and implausible header (dimensions ${h.nx}×${h.ny}×${h.nz}, mode ${h.mode})`,
      path,
    );
  }
  if (!(h.mode in MODE_NAMES)) throw new CryosamError(`unknown MRC mode ${h.mode}`, path);
  if (!(h.mode in MODE_BYTES)) {
    throw new CryosamError(
      `unsupported mode ${h.mode} (${MODE_NAMES[h.mode]}); readable modes are 0 int8, 1 int16, 2 float32, 6 uint16, 12 float16`,
      path,
    );
  }
  if (![h.nx, h.ny, h.nz].every((n) => n >= 1)) throw new CryosamError(`invalid dimensions ${h.nx}×${h.ny}×${h.nz}: each must be at least 1`, path);
  const axes = [h.mapc, h.mapr, h.maps];
  if (![1, 2, 3].every((a) => axes.includes(a))) {
    throw new CryosamError(`invalid axis order mapc/mapr/maps = ${axes.join(',')}: must be a permutation of 1,2,3`, path);
  }
  if (h.nsymbt < 0) throw new CryosamError(`invalid extended header size nsymbt = ${h.nsymbt}`, path);
}

/**
 * Throws CryosamError naming `path` when the header cannot describe a readable file of `fileSize`
 * bytes: everything validateHeaderFields checks, and a file shorter or longer than header +
 * extended header + data. A voxel size of 0 is *not* an error here (many label maps carry it);
 * use requireVoxelSize where Å matter.
 */
export function validateHeader(h: MrcHeader, fileSize: number, path: string): void {
  checkHeaderFits(fileSize, path);
  validateHeaderFields(h, path);
  const expected = mrcFileSize(h);
  if (fileSize < expected) {
    throw new CryosamError(
      `truncated MRC file: header says ${describeLayout(h)} = ${h.dataBytes} bytes of data from byte ${h.dataOffset}, ` +
        `so ${expected} bytes in all, but the file has ${fileSize}`,
      path,
    );
  }
  if (fileSize > expected) {
    throw new CryosamError(
      `file size disagrees with the header: ${describeLayout(h)} needs ${expected} bytes ` +
        `(data from byte ${h.dataOffset}), but the file has ${fileSize} (${fileSize - expected} extra)`,
      path,
    );
  }
}

/**
 * The header at the start of a file (or of its decompressed data), parsed and validated: the one
 * way readers turn first bytes into a header. `first` holds the first min(fileSize, 1024) bytes;
 * `fileSize` undefined means not known yet (data still being decompressed), and the size checks
 * are left to the caller. When the header does not check out and the first bytes say what the
 * file is instead (STAR, CSV, JSON, TIFF, PNG, HDF5, zip, ...), the error says that.
 */
export function readMrcHeaderBytes(first: Uint8Array, fileSize: number | undefined, path: string, isStackFile = false): MrcHeader {
  try {
    checkHeaderFits(fileSize ?? first.byteLength, path);
    const header = parseMrcHeader(first, isStackFile);
    if (fileSize === undefined) validateHeaderFields(header, path);
    else validateHeader(header, fileSize, path);
    return header;
  } catch (err) {
    const looks = sniffFormat(first);
    if (looks === undefined) throw err;
    throw new CryosamError(`not an MRC file: this looks like ${looks}, not an MRC tomogram`, path);
  }
}

/**
 * The voxel size in Å, or a CryosamError naming `path` when the header does not give one
 * (cella or mx/my/mz of 0) or gives one no real tomogram has (outside PIXEL_SIZE_RANGE, e.g. a
 * cell written in the wrong unit). Commands that measure in Å call this; `override` (e.g. a
 * --voxel-size option) wins over the header.
 */
export function requireVoxelSize(voxelSize: VoxelSize, path: string, override?: number): VoxelSize {
  if (override !== undefined) {
    if (!(override > 0 && Number.isFinite(override))) throw new CryosamError(`voxel size must be a positive number of Å, got ${override}`, path);
    return { x: override, y: override, z: override };
  }
  const { x, y, z } = voxelSize;
  if (!(x > 0 && y > 0 && z > 0)) {
    throw new CryosamError(
      `voxel size is ${x}×${y}×${z} Å (x×y×z) in the header, and this needs a real one: give the voxel size in Å (e.g. --voxel-size)`,
      path,
    );
  }
  if (![x, y, z].every(isPlausiblePixelSize)) {
    throw new CryosamError(
      `voxel size is ${x}×${y}×${z} Å (x×y×z) in the header, which is not usable: a voxel size ${PIXEL_SIZE_RULE}; ` +
        'give the voxel size in Å (e.g. --voxel-size)',
      path,
    );
  }
  return voxelSize;
}
