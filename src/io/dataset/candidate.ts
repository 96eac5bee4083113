import type { Stats } from 'node:fs';
import { CryosamError } from '../../errors.js';

/** One tomogram found while resolving the inputs, before names are made distinct. */
export interface Candidate {
  /** The name a dataset file gives (rlnTomoName, copick run); undefined for plain paths. */
  name?: string;
  /** Absolute path of an existing regular file. */
  path: string;
  stats: Stats;
  voxelSizeA?: number;
  /** The input as the user gave it. */
  source: string;
  /** Where exactly it came from, for error messages ("tomograms.star line 7: tomogram TS_01"). */
  where: string;
  copick?: { run: string; voxelSpacing: number; tomoType: string };
}

/**
 * A name from a dataset file becomes an output file stem (OUT/<name>.star): it must be a single,
 * non-empty path component.
 */
export function checkFixedName(name: string, what: string, file: string): void {
  if (name === '' || name === '.' || name === '..' || /[\\/\0]/.test(name)) {
    throw new CryosamError(`${what} "${name}" cannot name an output file (empty, "." or "..", or holds / or \\)`, file);
  }
}
