/**
 * The list of tomograms a batch run works on, from what the user gives on the command line:
 *
 * - `*.star`: a RELION 5 tomograms.star (see relion.ts); names are its rlnTomoName values.
 * - `*.json`: a copick project config (see copick.ts); names are its run names.
 * - anything else: a tomogram file, or a glob (`*`, `?`, `[..]`, `**`, see glob.ts) matching
 *   tomogram files (a matched `.star` or `.json` is read as above); names come from the file
 *   names (tomogramName), made distinct by parent folder names (see names.ts).
 *
 * Everything is checked before the list is returned, so a batch fails before any work: every
 * tomogram is an existing regular file (not a folder, FIFO or device), a glob matches something,
 * and names are distinct. The same file reached twice (two inputs, a glob and a STAR file, a
 * symbolic link) is listed once, under the name a dataset file gives it if one does.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CryosamError } from '../../errors.js';
import { requireInputFile } from '../files.js';
import type { Candidate } from './candidate.js';
import { type CopickChoice, readCopickProject } from './copick.js';
import { comparePaths, expandGlob, isGlob } from './glob.js';
import { assignNames } from './names.js';
import { readTomogramsStar } from './relion.js';

export { copickPicksPath, type CopickChoice } from './copick.js';

export interface DatasetTomogram {
  /** Distinct (also without case) and stable for the same inputs: output file stem and rlnTomoName. */
  name: string;
  /** Absolute path of the tomogram MRC file. */
  path: string;
  /** Voxel size in Å when the dataset file gives it (RELION 5 pixel size × binning, copick voxel spacing). */
  voxelSizeA?: number;
  /** The input it came from, as the user gave it (a STAR file, a copick config, a path or a glob). */
  source: string;
  /** For a copick project: where it lies in the project, to write picks back (copickPicksPath). */
  copick?: { run: string; voxelSpacing: number; tomoType: string };
}

export interface ResolveDatasetOptions {
  /** Folder relative inputs are taken from; default process.cwd(). */
  cwd?: string;
  /** Which tomogram of each copick run: voxel spacing and tomogram type. */
  copick?: CopickChoice;
}

const isStar = (file: string) => /\.star$/i.test(file);
const isJson = (file: string) => /\.json$/i.test(file);

/** requireInputFile, the error naming the file as `shown` (what the user typed). */
async function checkFile(file: string, shown: string) {
  try {
    return await requireInputFile(file);
  } catch (err) {
    if (err instanceof CryosamError && err.file === file && shown !== file) {
      throw new CryosamError(err.message.slice(file.length + 2), shown);
    }
    throw err;
  }
}

/** `file` (absolute) read as a dataset file or taken as a tomogram; `shown` names it in errors. */
async function fromFile(file: string, shown: string, given: string, cwd: string, opts: ResolveDatasetOptions): Promise<Candidate[]> {
  const stats = await checkFile(file, shown);
  if (isStar(file)) return readTomogramsStar(file, shown, given, cwd);
  if (isJson(file)) return readCopickProject(file, shown, given, opts.copick);
  return [{ path: file, stats, source: given, where: shown }];
}

/**
 * The tomograms `inputs` name (paths, globs, RELION 5 tomograms.star files, copick configs),
 * each once, with distinct names, sorted by name. Throws a CryosamError naming the input (and
 * the line or run) at the first problem.
 */
export async function resolveDataset(inputs: string[], opts: ResolveDatasetOptions = {}): Promise<DatasetTomogram[]> {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  if (inputs.length === 0) throw new CryosamError('no tomograms given');
  const candidates: Candidate[] = [];
  for (const input of inputs) {
    if (input === '') throw new CryosamError('an empty tomogram path was given');
    const absolute = path.resolve(cwd, input);
    // A file that exists under the literal name is that file, even if its name holds '[' or '*'.
    const literal = !isGlob(input) || (await requireInputFile(absolute).then(() => true, () => false));
    if (literal) {
      candidates.push(...(await fromFile(absolute, input, input, cwd, opts)));
      continue;
    }
    const matches = await expandGlob(input, cwd);
    if (matches.length === 0) throw new CryosamError('matches no file', input);
    for (const file of matches) candidates.push(...(await fromFile(file, file, input, cwd, opts)));
  }

  // The same file once: a dataset file's entry (it carries a name and voxel size) over a plain
  // path, a path without symbolic links over one through a link, then the first by name and
  // path, so the choice never depends on the input order.
  const direct = new Map<Candidate, boolean>();
  for (const c of candidates) direct.set(c, (await fs.realpath(c.path).catch(() => c.path)) === c.path);
  const rank = (c: Candidate) => (c.name === undefined ? 2 : 0) + (direct.get(c) ? 0 : 1);
  candidates.sort((a, b) => rank(a) - rank(b) || comparePaths(a.name ?? '', b.name ?? '') || comparePaths(a.path, b.path));
  const byFile = new Map<string, Candidate>();
  for (const c of candidates) {
    const id = `${c.stats.dev}:${c.stats.ino}`;
    if (!byFile.has(id)) byFile.set(id, c);
  }

  return assignNames([...byFile.values()]).map(({ candidate: c, name }) => ({
    name,
    path: c.path,
    ...(c.voxelSizeA === undefined ? {} : { voxelSizeA: c.voxelSizeA }),
    source: c.source,
    ...(c.copick ? { copick: c.copick } : {}),
  }));
}
