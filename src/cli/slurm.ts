/**
 * `cryosam batch --slurm`: the same batch as a Slurm job array. Array task i runs
 * `cryosam batch … --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT --no-merge` (the same
 * idempotent code path as a local run), and a merge job that depends on the whole array
 * (`afterany`: it runs whether tasks failed or not) writes OUT/manifest.json and OUT/particles.star.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CryosamError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

export interface SlurmOptions {
  reference: string;
  out: string;
  format: string;
  masks?: boolean;
  engine?: string;
  voxelSize?: number;
  cacheDir?: string;
  copickVoxelSpacing?: number;
  copickTomoType?: string;
  copickUser: string;
  copickSession: string;
  copickObject: string;
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  arrayLimit?: number;
}

export interface SlurmScripts {
  array: string;
  merge: string;
  /** The two sbatch calls, for a user who submits by hand. */
  submitCommand: string;
}

const CLI_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');

/** A word for bash, single-quoted unless plainly safe. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The batch command line that every job runs, with absolute paths (jobs start in another folder). */
function batchCommand(inputs: string[], o: SlurmOptions, extra: string[]): string {
  const args = [process.execPath, CLI_MAIN, 'batch', ...inputs.map((i) => path.resolve(i)), '--reference', path.resolve(o.reference), '--out', path.resolve(o.out), '--format', o.format];
  if (o.masks) args.push('--masks');
  if (o.engine) args.push('--engine', o.engine);
  if (o.voxelSize !== undefined) args.push('--voxel-size', String(o.voxelSize));
  if (o.cacheDir) args.push('--cache-dir', path.resolve(o.cacheDir));
  if (o.copickVoxelSpacing !== undefined) args.push('--copick-voxel-spacing', String(o.copickVoxelSpacing));
  if (o.copickTomoType) args.push('--copick-tomo-type', o.copickTomoType);
  args.push('--copick-user', o.copickUser, '--copick-session', o.copickSession, '--copick-object', o.copickObject);
  return [...args.map(quote), ...extra].join(' ');
}

function header(name: string, o: SlurmOptions, logs: string, lines: string[]): string[] {
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${name}`,
    `#SBATCH --cpus-per-task=${o.cpusPerTask ?? 2}`,
    `#SBATCH --mem=${o.mem ?? '8G'}`,
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...lines,
    `#SBATCH --output=${logs}`,
    'set -euo pipefail',
  ];
}

/** Writes OUT/slurm/array.sbatch (one task per tomogram) and OUT/slurm/merge.sbatch. */
export async function slurmScripts(inputs: string[], o: SlurmOptions, tomograms: number): Promise<SlurmScripts> {
  const dir = path.resolve(o.out, 'slurm');
  await fs.mkdir(path.join(dir, 'logs'), { recursive: true });
  const array = path.join(dir, 'array.sbatch');
  const merge = path.join(dir, 'merge.sbatch');
  const limit = o.arrayLimit ? `%${o.arrayLimit}` : '';
  await writeFileAtomic(
    array,
    [
      ...header('cryosam-batch', o, path.join(dir, 'logs', 'array_%A_%a.out'), [`#SBATCH --array=0-${tomograms - 1}${limit}`]),
      '# Each task picks its share of the tomograms; rerunning the array skips what is done.',
      `exec ${batchCommand(inputs, o, ['--jobs', '1', '--shard', '"${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}"', '--no-merge', '-q'])}`,
      '',
    ].join('\n'),
  );
  await writeFileAtomic(
    merge,
    [
      ...header('cryosam-merge', { ...o, cpusPerTask: 1, mem: '2G' }, path.join(dir, 'logs', 'merge_%j.out'), []),
      '# Runs after the whole array (afterany): writes manifest.json and particles.star from what is done.',
      `exec ${batchCommand(inputs, o, ['--merge-only'])}`,
      '',
    ].join('\n'),
  );
  await fs.chmod(array, 0o755);
  await fs.chmod(merge, 0o755);
  return { array, merge, submitCommand: `jid=$(sbatch --parsable ${quote(array)}) && sbatch --dependency=afterany:\${jid%%;*} ${quote(merge)}` };
}

async function sbatch(args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('sbatch', ['--parsable', ...args]);
    return stdout.trim().split(';')[0];
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new CryosamError('sbatch not found: is this a Slurm login node? (the scripts are written; submit them where Slurm runs)');
    throw new CryosamError(`sbatch failed: ${(e.stderr ?? e.message).trim()}`, args[args.length - 1]);
  }
}

/** Submits the array, then the merge after it; returns their job ids. */
export async function submitSlurm(scripts: SlurmScripts): Promise<{ array: string; merge: string }> {
  const array = await sbatch([scripts.array]);
  const merge = await sbatch([`--dependency=afterany:${array}`, scripts.merge]);
  return { array, merge };
}
