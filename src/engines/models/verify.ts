/** Checking a model folder's weight files against its manifest: presence and sha256. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CryosamError } from '../../errors.js';
import { sha256File } from './hash.js';
import { manifestFiles, readManifest, type ModelManifest } from './manifest.js';

export interface VerifiedFile {
  role: string;
  path: string;
  /** From the manifest; undefined when the manifest does not know it. */
  expected?: string;
  actual: string;
}

export interface VerifiedModel {
  dir: string;
  manifest: ModelManifest;
  files: VerifiedFile[];
}

/**
 * Hashes every weight file of the folder. A missing file or a checksum mismatch is a CryosamError
 * that says how to repair the folder.
 */
export async function verifyModelFolder(dir: string, manifest?: ModelManifest): Promise<VerifiedModel> {
  const m = manifest ?? (await readManifest(dir));
  const name = m.name ?? path.basename(dir);
  const files: VerifiedFile[] = [];
  for (const ref of manifestFiles(m)) {
    const file = path.join(dir, ref.file);
    try {
      await fs.access(file);
    } catch {
      throw new CryosamError(
        `missing ${ref.role} weights '${ref.file}' of model '${name}': run 'cryosam models pull ${name}', ` +
          `or put the ONNX file at this path`,
        file,
      );
    }
    const actual = await sha256File(file);
    if (ref.sha256 && ref.sha256 !== actual) {
      throw new CryosamError(
        `corrupt ${ref.role} weights of model '${name}': sha256 is ${actual}, the manifest expects ${ref.sha256}; ` +
          `delete the file and run 'cryosam models pull ${name}'`,
        file,
      );
    }
    files.push({ role: ref.role, path: file, expected: ref.sha256, actual });
  }
  return { dir, manifest: m, files };
}
