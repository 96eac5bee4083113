/**
 * `cryosam batch`: a whole dataset picked with one saved reference. Each tomogram is picked by the
 * same code path as `cryosam pick --reference` (a child process per tomogram, `--jobs` at a time),
 * its outcome recorded in the output folder (src/cli/batch-manifest.ts); a rerun skips what is done,
 * a killed run resumes, one failing tomogram is recorded and the rest go on. Shards (`--shard i/n`)
 * split the dataset across machines: Slurm array tasks run them (src/cli/slurm.ts), and a last
 * merge writes `OUT/manifest.json` and the RELION 5 `OUT/particles.star`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CryosamError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readPicks, writePicks, type CoordFormat, type Pick } from '../io/coords/index.js';
import { formatNumber } from '../io/coords/numbers.js';
import { formatStarLoop } from '../io/coords/star.js';
import { copickPicksPath, resolveDataset, type DatasetTomogram } from '../io/dataset/index.js';
import { checkOutputFolder } from '../io/files.js';
import { readMrcHeader } from '../io/mrc/index.js';
import { AVERAGE_FILE, loadReference, REFERENCE_FILE } from '../pipeline/reference-file.js';
import {
  claimOutFolder, describeOutput, fingerprint, readEntry, sha256File, STATE_DIR, upToDate, writeEntry, type BatchEntry, type BatchRun,
} from './batch-manifest.js';
import { createCliProgress } from './progress.js';
import { slurmScripts, submitSlurm } from './slurm.js';

/** Output formats of the per-tomogram picks: the extension each is written with. */
const BATCH_FORMATS: Readonly<Record<string, { format: CoordFormat; ext: string }>> = {
  star: { format: 'relion4', ext: 'star' },
  relion5: { format: 'relion5', ext: 'star' },
  copick: { format: 'copick', ext: 'json' },
  csv: { format: 'csv', ext: 'csv' },
  ndjson: { format: 'ndjson', ext: 'ndjson' },
};

export interface BatchOptions {
  reference: string;
  out: string;
  format: string;
  jobs?: number;
  shard?: { index: number; count: number };
  masks?: boolean;
  merge: boolean;
  mergeOnly?: boolean;
  copickVoxelSpacing?: number;
  copickTomoType?: string;
  copickUser: string;
  copickSession: string;
  copickObject: string;
  engine?: string;
  /** Voxel size in Å of every tomogram, over what the dataset files and MRC headers say. */
  voxelSize?: number;
  cacheDir?: string;
  quiet?: boolean;
  slurm?: boolean;
  submit?: boolean;
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  arrayLimit?: number;
}

function parseShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index >= 0 && index < count)) throw new InvalidArgumentError(`expected i/n with 0 ≤ i < n (Slurm: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT), got "${value}"`);
  return { index, count };
}

function positiveInt(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what}: expected a whole number ≥ 1, got "${v}"`);
    return n;
  };
}

/** Cores this process may use: a Slurm task's allocation, else the machine's. */
function cores(): number {
  return Number(process.env.SLURM_CPUS_PER_TASK) || os.availableParallelism();
}

const CLI_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');

/** The hash a rerun compares: reference files and every option that changes the outputs. */
async function runRecord(o: BatchOptions): Promise<BatchRun> {
  const hash = createHash('sha256');
  for (const f of [REFERENCE_FILE, AVERAGE_FILE]) hash.update(await sha256File(path.join(o.reference, f)).catch(() => 'none'));
  const options = { format: o.format, masks: o.masks === true, engine: o.engine ?? 'classical', voxelSize: o.voxelSize ?? null, copick: o.format === 'copick' ? [o.copickUser, o.copickSession, o.copickObject] : null, cryosam: '0.1.0' };
  hash.update(JSON.stringify(options));
  return { runHash: hash.digest('hex'), reference: path.resolve(o.reference), options };
}

interface PickOutcome {
  code: number;
  stderr: string;
}

/** `cryosam pick TOMO --reference REF …` in a child process: one tomogram's pick, in the same code path as the CLI's. */
function runPick(args: string[]): Promise<PickOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_MAIN, 'pick', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.on('error', (err) => resolve({ code: 1, stderr: err.message }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stderr }));
  });
}

/** Where a tomogram's outputs go: OUT/<name>.<ext>, and for a copick project also its Picks folder. */
function outputsOf(t: DatasetTomogram, o: BatchOptions, configPath: string | undefined): { picks: string; mask?: string; copick?: string } {
  const { ext } = BATCH_FORMATS[o.format];
  const copick = o.format === 'copick' && t.copick && configPath ? copickPicksPath(configPath, t.copick.run, o.copickObject, o.copickUser, o.copickSession) : undefined;
  return { picks: path.join(o.out, `${t.name}.${ext}`), ...(o.masks ? { mask: path.join(o.out, `${t.name}.mask.mrc`) } : {}), ...(copick ? { copick } : {}) };
}

/** The copick picks file in the project: the pick's JSON with the run, user, session and object copick files them under. */
async function writeCopickPicks(from: string, to: string, t: DatasetTomogram, o: BatchOptions): Promise<void> {
  const doc = JSON.parse(await fs.readFile(from, 'utf8')) as Record<string, unknown>;
  Object.assign(doc, { pickable_object_name: o.copickObject, user_id: o.copickUser, session_id: o.copickSession, run_name: t.copick?.run ?? t.name });
  await fs.mkdir(path.dirname(to), { recursive: true });
  await writeFileAtomic(to, JSON.stringify(doc, null, 2) + '\n');
}

async function pickOne(t: DatasetTomogram, o: BatchOptions, run: BatchRun, configPath: string | undefined): Promise<BatchEntry> {
  const started = performance.now();
  const print = await fingerprint(t.path);
  const outputs = outputsOf(t, o, configPath);
  const args = [t.path, '--reference', o.reference, '-o', outputs.picks, '--format', BATCH_FORMATS[o.format].format, '-q'];
  if (outputs.mask) args.push('--mask', outputs.mask);
  const voxelSize = o.voxelSize ?? t.voxelSizeA;
  if (voxelSize) args.push('--voxel-size', String(voxelSize));
  if (o.engine) args.push('--engine', o.engine);
  if (o.cacheDir) args.push('--cache-dir', o.cacheDir);
  // The cores are shared between the tomograms picked at once.
  args.push('--workers', String(Math.max(1, Math.floor(cores() / (o.jobs ?? cores())))));
  const { code, stderr } = await runPick(args);
  const base = { name: t.name, tomogram: print, runHash: run.runHash, seconds: (performance.now() - started) / 1000, finishedAt: new Date().toISOString() };
  if (code !== 0) {
    const error = stderr.trim().split('\n').filter((l) => l.trim()).pop() ?? `exit code ${code}`;
    return { ...base, status: 'failed', outputs: [], error: error.replace(/^cryosam: error: /, '') };
  }
  const report = JSON.parse(await fs.readFile(`${outputs.picks}.report.json`, 'utf8')) as { picks: number; peakRssMiB: number; shape: [number, number, number]; voxelSizeA: { x: number } };
  if (outputs.copick) await writeCopickPicks(outputs.picks, outputs.copick, t, o);
  const files = [outputs.picks, `${outputs.picks}.report.json`, ...(outputs.mask ? [outputs.mask] : []), ...(outputs.copick ? [outputs.copick] : [])];
  return {
    ...base, status: 'done', picks: report.picks, peakRssMiB: report.peakRssMiB, shape: report.shape, voxelSizeA: report.voxelSizeA.x,
    outputs: await Promise.all(files.map(describeOutput)),
  };
}

/** Runs `work` over the items with at most `jobs` at a time, in order of the items. */
async function pool<T>(items: readonly T[], jobs: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
}

/**
 * manifest.json (every tomogram of the dataset: its entry, or pending) and particles.star (RELION 5:
 * every done tomogram's picks in Å from its centre), both rebuilt from the entries.
 */
async function merge(o: BatchOptions, dataset: readonly DatasetTomogram[], run: BatchRun): Promise<{ entries: (BatchEntry | undefined)[]; particles: number }> {
  const entries = await Promise.all(dataset.map((t) => readEntry(o.out, t.name)));
  const rows: string[][] = [];
  for (const [i, e] of entries.entries()) {
    if (e?.status !== 'done' || !e.shape || !e.voxelSizeA) continue;
    const picksFile = e.outputs[0].file;
    const picks: Pick[] = await readPicks(picksFile, { voxelSize: e.voxelSizeA, shape: e.shape }, { format: BATCH_FORMATS[o.format].format });
    const [nz, ny, nx] = e.shape;
    // RELION 5 centred coordinates: Å from the tomogram's centre (n / 2 voxels), as src/io/coords/relion.ts writes them.
    const centred = (v: number, n: number) => formatNumber((v - n / 2) * e.voxelSizeA!);
    for (const p of picks) rows.push([dataset[i].name, centred(p.x, nx), centred(p.y, ny), centred(p.z, nz), formatNumber(p.score ?? 0), '1']);
  }
  const columns = ['rlnTomoName', 'rlnCenteredCoordinateXAngst', 'rlnCenteredCoordinateYAngst', 'rlnCenteredCoordinateZAngst', 'rlnAutopickFigureOfMerit', 'rlnClassNumber'];
  await writeFileAtomic(path.join(o.out, 'particles.star'), formatStarLoop('particles', columns, rows));
  const manifest = {
    tool: 'cryosam',
    version: '0.1.0',
    writtenAt: new Date().toISOString(),
    reference: run.reference,
    runHash: run.runHash,
    options: run.options,
    tomograms: dataset.map((t, i) => ({ ...(entries[i] ?? { name: t.name, status: 'pending' }), path: t.path, source: t.source })),
    particles: rows.length,
  };
  await writeFileAtomic(path.join(o.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { entries, particles: rows.length };
}

function summary(dataset: readonly DatasetTomogram[], entries: readonly (BatchEntry | undefined)[], particles: number, out: string): string {
  const lines = ['tomogram'.padEnd(24) + 'status   picks  seconds  peak MiB  error'];
  dataset.forEach((t, i) => {
    const e = entries[i];
    lines.push(
      `${t.name.slice(0, 23).padEnd(24)}${(e?.status ?? 'pending').padEnd(9)}${String(e?.picks ?? '').padStart(5)}  ${(e ? e.seconds.toFixed(1) : '').padStart(7)}  ${String(e?.peakRssMiB ?? '').padStart(8)}  ${e?.error ?? ''}`,
    );
  });
  const done = entries.filter((e) => e?.status === 'done').length, failed = entries.filter((e) => e?.status === 'failed').length;
  lines.push(`${done} done, ${failed} failed, ${dataset.length - done - failed} pending; ${particles} particles in ${path.join(out, 'particles.star')}`);
  return lines.join('\n') + '\n';
}

async function runBatch(inputs: string[], o: BatchOptions): Promise<void> {
  if (!BATCH_FORMATS[o.format]) throw new CryosamError(`unknown batch format "${o.format}"; choose ${Object.keys(BATCH_FORMATS).join(', ')}`);
  await loadReference(o.reference); // a damaged or foreign reference fails here, before any work
  await checkOutputFolder(o.out);
  const dataset = await resolveDataset(inputs, { copick: { voxelSpacing: o.copickVoxelSpacing, tomoType: o.copickTomoType } });
  if (dataset.length === 0) throw new CryosamError('no tomograms given');
  const configPath = inputs.find((i) => /\.json$/i.test(i));
  if (o.format === 'copick' && !dataset.every((t) => t.copick)) throw new CryosamError('--format copick writes picks into a copick project: give the project config (JSON) as the input');
  const run = await runRecord(o);
  await fs.mkdir(o.out, { recursive: true });
  await claimOutFolder(o.out, run);
  if (o.slurm) {
    const scripts = await slurmScripts(inputs, o, dataset.length);
    process.stderr.write(`cryosam: wrote ${scripts.array} (${dataset.length} array tasks) and ${scripts.merge}\n`);
    if (o.submit) {
      const ids = await submitSlurm(scripts);
      process.stdout.write(`array job ${ids.array}\nmerge job ${ids.merge} (after the array)\n`);
    } else process.stderr.write(`cryosam: submit with: ${scripts.submitCommand}\n`);
    return;
  }
  if (!o.mergeOnly) {
    const mine = o.shard ? dataset.filter((_, i) => i % o.shard!.count === o.shard!.index) : dataset;
    const todo: DatasetTomogram[] = [];
    for (const t of mine) if (!(await upToDate(await readEntry(o.out, t.name), await fingerprint(t.path), run.runHash))) todo.push(t);
    if (!o.quiet) process.stderr.write(`cryosam: ${mine.length} tomograms${o.shard ? ` in shard ${o.shard.index}/${o.shard.count}` : ''}, ${mine.length - todo.length} already done, ${todo.length} to pick\n`);
    const progress = createCliProgress(o.quiet);
    let done = 0;
    progress.onProgress({ stage: 'tomograms', done, total: todo.length });
    try {
      await pool(todo, o.jobs ?? cores(), async (t) => {
        await writeEntry(o.out, await pickOne(t, o, run, configPath));
        progress.onProgress({ stage: 'tomograms', done: ++done, total: todo.length });
      });
    } finally {
      progress.stop();
    }
  }
  const mineNames = new Set((o.shard && !o.mergeOnly ? dataset.filter((_, i) => i % o.shard!.count === o.shard!.index) : dataset).map((t) => t.name));
  const { entries, particles } = o.merge || o.mergeOnly ? await merge(o, dataset, run) : { entries: await Promise.all(dataset.map((t) => readEntry(o.out, t.name))), particles: 0 };
  if (!o.quiet) process.stderr.write(summary(dataset, entries, particles, o.out));
  const failed = dataset.filter((t, i) => mineNames.has(t.name) && entries[i]?.status !== 'done');
  if (failed.length) throw new CryosamError(`${failed.length} of ${mineNames.size} tomograms not picked (${failed.slice(0, 5).map((t) => t.name).join(', ')}); see ${path.join(o.out, 'manifest.json')}; rerun to retry them`);
}

export function registerBatch(program: Command): void {
  program
    .command('batch')
    .description(
      'Pick a whole dataset with a saved reference (cryosam pick --save-reference): picks per tomogram in OUT, a merged RELION 5 ' +
        'OUT/particles.star and OUT/manifest.json. A rerun skips tomograms already done for the same inputs and options; a killed run ' +
        'resumes; a failing tomogram is recorded and the rest go on (exit code 1 if any failed).',
    )
    .argument('<tomograms...>', 'tomogram MRC files or globs (quote them: "tomos/*.mrc"), a RELION 5 tomograms.star, or a copick project config (JSON)')
    .requiredOption('--reference <dir>', 'reference folder written by cryosam pick --save-reference')
    .requiredOption('--out <dir>', 'output folder (created if missing); one folder per reference and options')
    .addOption(new Option('--format <format>', 'per-tomogram picks: star (RELION 4, pixels), relion5 (Å from the centre), copick (into the copick project), csv, ndjson').choices(Object.keys(BATCH_FORMATS)).default('star'))
    .option('--jobs <n>', `tomograms picked at once, each its own process (default: the machine's cores, here ${os.availableParallelism()})`, positiveInt('--jobs'))
    .option('--shard <i/n>', 'pick only the tomograms with index ≡ i (mod n), 0 ≤ i < n: one of n machines or Slurm array tasks', parseShard)
    .option('--masks', 'also write each tomogram\'s semantic mask (OUT/<name>.mask.mrc)')
    .option('--no-merge', 'do not rewrite manifest.json and particles.star at the end (Slurm array tasks; the merge job does it)')
    .option('--merge-only', 'pick nothing: rewrite manifest.json and particles.star from what is done')
    .option('--copick-voxel-spacing <Å>', 'copick project: the voxel spacing whose tomograms to pick (default: the only one)', Number)
    .option('--copick-tomo-type <type>', 'copick project: the tomogram type to pick (default: the only one)')
    .option('--copick-user <id>', 'copick picks: user id', 'cryosam')
    .option('--copick-session <id>', 'copick picks: session id', '0')
    .option('--copick-object <name>', 'copick picks: pickable object name', 'particle')
    .option('--engine <name>', 'engine the reference was made with (default classical)')
    .option('--voxel-size <Å>', 'voxel size in Å of every tomogram, over what a tomograms.star, copick config or MRC header says (for headers that lack it; default: theirs)', (v: string) => {
      const n = Number(v);
      if (!(n > 0 && Number.isFinite(n))) throw new InvalidArgumentError(`expected a positive number of Å, got "${v}"`);
      return n;
    })
    .option('--cache-dir <dir>', 'embedding/feature cache folder for the picks (default $CRYOSAM_CACHE or ~/.cache/cryosam/cache)')
    .option('--slurm', 'write a Slurm array script (one task per tomogram) and a merge script that runs after it, instead of picking here')
    .option('--submit', 'with --slurm: submit both with sbatch and print the job ids')
    .option('--partition <name>', 'with --slurm: partition (#SBATCH --partition)')
    .option('--time <limit>', 'with --slurm: time limit per task, e.g. 02:00:00')
    .option('--cpus-per-task <n>', 'with --slurm: cores per task (default 2)', positiveInt('--cpus-per-task'))
    .option('--mem <size>', 'with --slurm: memory per task, e.g. 16G (default 8G)')
    .option('--array-limit <k>', 'with --slurm: at most k array tasks at once (%k)', positiveInt('--array-limit'))
    .option('-q, --quiet', 'no progress bar or summary on stderr')
    .action(async (inputs: string[], o: BatchOptions) => runBatch(inputs, o));
}

