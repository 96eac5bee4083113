/**
 * The rules every command and the viewer apply to the files they are given, before any work:
 * an input is an existing regular file (a FIFO or a device would block `open` forever), and an
 * output is a writable path in an existing folder that is not a folder itself, not named twice,
 * and never one of the inputs (compared by device and inode, so symlinks, hard links and
 * relative paths that reach an input are refused too).
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { CryosamError } from '../errors.js';

/** Stats of an input file; throws CryosamError naming it unless it is an existing regular file. */
export async function requireInputFile(file: string): Promise<Stats> {
  let st: Stats;
  try {
    st = await fs.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CryosamError(code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`, file);
  }
  if (st.isDirectory()) throw new CryosamError('is a folder, not a file', file);
  if (!st.isFile()) throw new CryosamError(`not a regular file (${kindOf(st)}); give a file on disk`, file);
  return st;
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}

/** True when the two stats name the same file on disk. */
function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * Checks that each output may be written without losing anything, before any work is done:
 * its folder exists and is writable, it is not a folder or a special file, no two outputs are the
 * same file, and none of them is (or links to) one of `inputs`. Undefined entries are skipped.
 */
export async function checkOutputs(outputs: readonly (string | undefined)[], inputs: readonly (string | undefined)[] = []): Promise<void> {
  const inputStats: { file: string; st: Stats }[] = [];
  for (const file of inputs) {
    if (!file) continue;
    const st = await fs.stat(file).catch(() => undefined);
    if (st) inputStats.push({ file, st });
  }
  const seen = new Map<string, string>();
  for (const file of outputs) {
    if (!file) continue;
    const resolved = path.resolve(file);
    const other = seen.get(resolved);
    if (other !== undefined) throw new CryosamError(`named as two outputs (also ${other}); give each output its own file`, file);
    seen.set(resolved, file);
    await checkOutput(file, inputStats);
  }
}

async function checkOutput(file: string, inputs: { file: string; st: Stats }[]): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const dirStat = await fs.stat(dir).catch(() => undefined);
  if (!dirStat) throw new CryosamError(`output folder ${dir} does not exist`, file);
  if (!dirStat.isDirectory()) throw new CryosamError(`${dir} is not a folder`, file);
  try {
    await fs.access(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new CryosamError(`output folder ${dir} is not writable`, file);
  }
  // lstat first: a dangling symlink is replaced by the rename, never followed.
  const link = await fs.lstat(file).catch(() => undefined);
  if (!link) return;
  const st = await fs.stat(file).catch(() => undefined);
  if (st?.isDirectory()) throw new CryosamError('is an existing folder; give a file name for the output', file);
  if (st && !st.isFile()) throw new CryosamError(`is ${kindOf(st)}, not a file; give a file name for the output`, file);
  for (const input of inputs) {
    if (sameFile(link, input.st) || (st && sameFile(st, input.st))) {
      throw new CryosamError(`is the input ${input.file}; an output never overwrites an input, give another name`, file);
    }
  }
}

/**
 * Checks a folder that a command fills with outputs (created if missing): it is not a file, and
 * it (or the existing folder it would be created in) is writable.
 */
export async function checkOutputFolder(dir: string): Promise<void> {
  let probe = path.resolve(dir);
  const st = await fs.stat(probe).catch(() => undefined);
  if (st && !st.isDirectory()) throw new CryosamError('is a file, not a folder; give a folder for the outputs', dir);
  // The nearest existing ancestor is where the folder would be created.
  while (!(await fs.stat(probe).catch(() => undefined))) probe = path.dirname(probe);
  const at = await fs.stat(probe);
  if (!at.isDirectory()) throw new CryosamError(`cannot create the folder: ${probe} is a file`, dir);
  try {
    await fs.access(probe, constants.W_OK | constants.X_OK);
  } catch {
    throw new CryosamError(`cannot write in ${probe}`, dir);
  }
}
