/**
 * Whether a decoded header describes a file this package can read. Kept apart from decoding
 * (as in ccpem/mrcfile) so every rule lives in one place and names the file it rejects.
 */
import { CryosamError } from '../../errors.js';
import type { VoxelSize } from '../../volume/volume.js';
import { HEADER_BYTES, isSaneDims, MODE_BYTES, MODE_NAMES, type MrcHeader } from './header.js';

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

/**
 * Throws CryosamError naming `path` when the header cannot describe a readable file of `fileSize`
 * bytes: non-MRC content, unknown or unsupported mode, impossible dimensions or axis order, or a
 * file shorter or longer than header + extended header + data. A voxel size of 0 is *not* an
 * error here (many label maps carry it); use requireVoxelSize where Å matter.
 */
export function validateHeader(h: MrcHeader, fileSize: number, path: string): void {
  checkHeaderFits(fileSize, path);
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
  const expected = h.dataOffset + h.dataBytes;
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
 * The voxel size in Å, or a CryosamError naming `path` when the header does not give one
 * (cella or mx/my/mz of 0). Commands that measure in Å call this; `override` (e.g. a
 * --voxel-size option) wins over the header.
 */
export function requireVoxelSize(voxelSize: VoxelSize, path: string, override?: number): VoxelSize {
  if (override !== undefined) {
    if (!(override > 0)) throw new CryosamError(`voxel size must be a positive number of Å, got ${override}`, path);
    return { x: override, y: override, z: override };
  }
  const { x, y, z } = voxelSize;
  if (!(x > 0 && y > 0 && z > 0)) {
    throw new CryosamError(
      `voxel size is ${x}×${y}×${z} Å (x×y×z) in the header, and this needs a real one: give the voxel size in Å (e.g. --voxel-size)`,
      path,
    );
  }
  return voxelSize;
}
