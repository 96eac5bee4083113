import { rmSync, promises as fs } from 'node:fs';
import path from 'node:path';

/** Temporary files being written now, so an interrupted process can remove them on its way out. */
const pending = new Set<string>();

/**
 * Writes an output file so that readers never see half of it: the content goes to a temporary
 * file in the same folder and is renamed over the target only once complete. On failure the
 * temporary file is removed and the target is untouched.
 */
export async function writeAtomic(target: string, write: (tmpPath: string) => Promise<void>): Promise<void> {
  const dir = path.dirname(path.resolve(target));
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  pending.add(tmp);
  try {
    await write(tmp);
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  } finally {
    pending.delete(tmp);
  }
}

export async function writeFileAtomic(target: string, content: string | Uint8Array): Promise<void> {
  await writeAtomic(target, (tmp) => fs.writeFile(tmp, content));
}

/** Removes the temporary files of writes still in progress (synchronously: for a signal handler about to exit). */
export function removePendingTempFiles(): void {
  for (const tmp of pending) rmSync(tmp, { force: true });
  pending.clear();
}
