/**
 * The record of a batch run in its output folder. Every tomogram's outcome is its own small file,
 * `OUT/.cryosam/entries/<name>.json`, written atomically by whichever process picked it, so that
 * many workers (processes, Slurm array tasks) never write the same file; `OUT/manifest.json` and
 * the merged `OUT/particles.star` are rebuilt from the entries (atomically, by any of them, always
 * from the full set), so the last writer leaves them complete.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { CryosamError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

export const STATE_DIR = '.cryosam';
const ENTRIES = 'entries';
/** What an --out folder was made for: one reference and one set of options. */
const RUN_FILE = 'run.json';

export interface TomogramFingerprint {
  path: string;
  bytes: number;
  /** Modification time, ms since the epoch: a changed tomogram is picked again. */
  mtimeMs: number;
}

export interface BatchEntry {
  name: string;
  status: 'done' | 'failed';
  tomogram: TomogramFingerprint;
  /** sha256 of the reference files and the options: together with the fingerprint, what the outputs depend on. */
  runHash: string;
  shape?: [number, number, number];
  voxelSizeA?: number;
  picks?: number;
  seconds: number;
  peakRssMiB?: number;
  /** Each output with its sha256, and the size and time that a rerun checks (cheap even for large masks). */
  outputs: BatchOutput[];
  error?: string;
  finishedAt: string;
}

export interface BatchOutput {
  file: string;
  sha256: string;
  bytes: number;
  mtimeMs: number;
}

export async function describeOutput(file: string): Promise<BatchOutput> {
  const st = await fs.stat(file);
  return { file: path.resolve(file), sha256: await sha256File(file), bytes: st.size, mtimeMs: st.mtimeMs };
}

export interface BatchRun {
  /** sha256 of the reference folder's files and the options. */
  runHash: string;
  reference: string;
  options: Record<string, unknown>;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function fingerprint(file: string): Promise<TomogramFingerprint> {
  const st = await fs.stat(file);
  return { path: path.resolve(file), bytes: st.size, mtimeMs: st.mtimeMs };
}

function entryFile(out: string, name: string): string {
  return path.join(out, STATE_DIR, ENTRIES, `${name}.json`);
}

/**
 * Records what this --out folder is for, or checks that it is for the same reference and options:
 * two datasets picked with different references into one folder would mix their particles.
 */
export async function claimOutFolder(out: string, run: BatchRun): Promise<void> {
  const file = path.join(out, STATE_DIR, RUN_FILE);
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) {
    await fs.mkdir(path.join(out, STATE_DIR, ENTRIES), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(run, null, 2) + '\n');
    return;
  }
  let have: BatchRun;
  try {
    have = JSON.parse(text) as BatchRun;
  } catch {
    throw new CryosamError('damaged batch record; remove it (or use a new --out) to start over', file);
  }
  if (have.runHash !== run.runHash) {
    throw new CryosamError(
      `this output folder holds a batch run with another reference or other options (${have.reference}, ${JSON.stringify(have.options)}); use a new --out`,
      out,
    );
  }
  await fs.mkdir(path.join(out, STATE_DIR, ENTRIES), { recursive: true });
}

export async function readEntry(out: string, name: string): Promise<BatchEntry | undefined> {
  const text = await fs.readFile(entryFile(out, name), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as BatchEntry;
  } catch {
    return undefined; // a damaged entry is as good as none: the tomogram is picked again
  }
}

export async function writeEntry(out: string, entry: BatchEntry): Promise<void> {
  await writeFileAtomic(entryFile(out, entry.name), JSON.stringify(entry, null, 2) + '\n');
}

/** True when the entry is done for these inputs and its outputs are on disk as written (same size and time). */
export async function upToDate(entry: BatchEntry | undefined, tomogram: TomogramFingerprint, runHash: string): Promise<boolean> {
  if (!entry || entry.status !== 'done' || entry.runHash !== runHash) return false;
  if (entry.tomogram.path !== tomogram.path || entry.tomogram.bytes !== tomogram.bytes || entry.tomogram.mtimeMs !== tomogram.mtimeMs) return false;
  for (const o of entry.outputs) {
    const st = await fs.stat(o.file).catch(() => undefined);
    if (!st || st.size !== o.bytes || st.mtimeMs !== o.mtimeMs) return false;
  }
  return true;
}
