/** Whole-file reading: the header alone, or the volume as float32 in canonical (z, y, x) order. */
import type { Volume } from '../../volume/volume.js';
import type { MrcHeader } from './header.js';
import { MrcReader, type ReadMrcOptions } from './reader.js';

/** The validated header of an MRC file (plain, .gz or .bz2); throws CryosamError naming the file otherwise. */
export async function readMrcHeader(path: string): Promise<MrcHeader> {
  const reader = await MrcReader.open(path);
  await reader.close();
  return reader.header;
}

/**
 * Reads a whole MRC file as float32 (z, y, x). Modes 0, 1, 2, 6 and 12 are converted; NaN or
 * infinite voxels throw unless `allowNonFinite`. The voxel size is the header's and may be 0 when
 * the header has none: callers that need Å must check it (requireVoxelSize) or override it.
 */
export async function readMrc(path: string, options?: ReadMrcOptions): Promise<Volume> {
  const reader = await MrcReader.open(path);
  try {
    return await reader.readVolume(options);
  } finally {
    await reader.close();
  }
}
