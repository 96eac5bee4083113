/**
 * The "dataset" section of `npm run bench`: a dataset picked from one click, as a user runs it
 * through the CLI. Several tomograms of one preset (different seeds) are simulated; a reference is
 * saved from a click on the first target particle of the first; every tomogram is picked both with
 * that reference (`cryosam batch`) and from a click in itself (`cryosam pick --at`), and scored
 * against its truth. Throughput: the same batch serially, with --jobs 2, through Slurm when a
 * cluster answers, and a rerun of the finished batch; peak memory per worker from the manifest; one
 * pick with one worker thread and with one per core (identical picks required).
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { scorePicks } from '../src/eval/score.js';
import { readPicks } from '../src/io/coords/index.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

export interface DatasetRow {
  tomogram: string;
  seed: number;
  particles: number;
  /** F1 of the picks made with the reference from the first tomogram. */
  referenceF1: number;
  /** F1 of the picks from a click on the tomogram's own first target particle. */
  ownClickF1: number;
  peakRssMiB: number;
}

export interface DatasetBench {
  preset: string;
  seeds: number[];
  rows: DatasetRow[];
  /** Wall-clock seconds for the whole batch. */
  serialSeconds: number;
  jobs2Seconds: number;
  slurmSeconds: number | null;
  slurmNote: string;
  rerunSeconds: number;
  cores: number;
  /** One pick (the first tomogram, its own click) with 1 and with `cores` worker threads: wall seconds and segment-proposals seconds. */
  singlePick: { workers: number; seconds: number; segmentSeconds: number; peakRssMiB: number }[];
}

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

async function must(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`cryosam ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

async function waitSlurm(ids: string[]): Promise<void> {
  for (;;) {
    const { stdout } = await promisify(execFile)('squeue', ['-h', '-j', ids.join(',')]).catch(() => ({ stdout: '' }));
    if (stdout.trim() === '') return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function benchDataset(preset: string, seeds: number[], log: (line: string) => void): Promise<DatasetBench> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-bench-dataset-'));
  try {
    const tomos: string[] = [];
    const truths: Awaited<ReturnType<typeof readPicks>>[] = [];
    const radii: number[] = [];
    for (const seed of seeds) {
      log(`dataset: simulating ${preset} seed ${seed}`);
      const sim = path.join(dir, `sim${seed}`);
      await must(['simulate', sim, '--preset', preset, '--seed', String(seed), '-q']);
      await fs.mkdir(path.join(dir, 'data', `TS_${seed}`), { recursive: true });
      const tomo = path.join(dir, 'data', `TS_${seed}`, 'tomogram.mrc');
      await fs.rename(path.join(sim, 'tomogram.mrc'), tomo);
      tomos.push(tomo);
      // Scored as cryosam eval --labels does: matched within the target's equivalent-sphere radius.
      const simulation = JSON.parse(await fs.readFile(path.join(sim, 'simulation.json'), 'utf8')) as { classes: { id: string; role: string; radiusVoxels: number }[] };
      const target = simulation.classes.find((c) => c.role === 'target') ?? simulation.classes[0];
      truths.push(await readPicks(path.join(sim, `picks_${target.id}.csv`), { voxelSize: 10 }));
      radii.push(target.radiusVoxels);
    }
    const click = (i: number) => [truths[i][0].x, truths[i][0].y, truths[i][0].z].map(Math.round).join(',');
    const ref = path.join(dir, 'reference');
    log('dataset: reference from one click in the first tomogram');
    await must(['pick', tomos[0], '--at', click(0), '-o', path.join(dir, 'ref.star'), '--save-reference', ref, '--no-cache', '-q']);
    const ownF1: number[] = [];
    for (const [i, tomo] of tomos.entries()) {
      log(`dataset: own click in tomogram ${i + 1}/${tomos.length}`);
      const out = path.join(dir, `own${i}.star`);
      await must(['pick', tomo, '--at', click(i), '-o', out, '--no-cache', '-q']);
      ownF1.push(scorePicks(await readPicks(out, { voxelSize: 10 }), truths[i], radii[i]).f1);
    }
    const singlePick: DatasetBench['singlePick'] = [];
    for (const workers of [1, os.availableParallelism()]) {
      log(`dataset: one pick with ${workers} worker thread(s)`);
      const out = path.join(dir, `single${workers}.star`);
      const seconds = await timed(() => must(['pick', tomos[0], '--at', click(0), '-o', out, '--no-cache', '-q', '--workers', String(workers)]));
      const report = JSON.parse(await fs.readFile(`${out}.report.json`, 'utf8')) as { stages: { name: string; seconds: number }[]; peakRssMiB: number };
      singlePick.push({ workers, seconds, segmentSeconds: report.stages.find((st) => st.name === 'segment proposals')?.seconds ?? NaN, peakRssMiB: report.peakRssMiB });
      if (workers > 1 && (await fs.readFile(out, 'utf8')) !== (await fs.readFile(path.join(dir, 'single1.star'), 'utf8'))) throw new Error('picks with worker threads differ from picks without');
    }
    // Each run its own empty cache, so that none reuses another's embeddings.
    const batch = (out: string, extra: string[]) => must(['batch', path.join(dir, 'data', '*', 'tomogram.mrc'), '--reference', ref, '--out', out, ...extra]);
    log('dataset: batch, serially');
    const serialSeconds = await timed(() => batch(path.join(dir, 'out1'), ['--jobs', '1', '-q', '--cache-dir', path.join(dir, 'c1')]));
    log('dataset: batch, --jobs 2');
    const jobs2Seconds = await timed(() => batch(path.join(dir, 'out2'), ['--jobs', '2', '-q', '--cache-dir', path.join(dir, 'c2')]));
    const rerunSeconds = await timed(() => batch(path.join(dir, 'out2'), ['--jobs', '2', '-q', '--cache-dir', path.join(dir, 'c2')]));
    let slurmSeconds: number | null = null;
    let slurmNote = 'no Slurm cluster answered (sinfo failed): not measured';
    const sinfo = await promisify(execFile)('sinfo', ['-h']).then(() => true, () => false);
    if (sinfo) {
      log('dataset: batch through Slurm');
      slurmSeconds = await timed(async () => {
        const stdout = await batch(path.join(dir, 'out3'), ['--slurm', '--submit', '--cpus-per-task', '1', '--mem', '2G', '--cache-dir', path.join(dir, 'c3')]);
        await waitSlurm([...stdout.matchAll(/job (\d+)/g)].map((m) => m[1]));
      });
      const manifest = JSON.parse(await fs.readFile(path.join(dir, 'out3', 'manifest.json'), 'utf8')) as { tomograms: { status: string }[] };
      slurmNote = `one-node cluster (${os.availableParallelism()} cores), 1 core per array task; ${manifest.tomograms.filter((t) => t.status === 'done').length}/${tomos.length} done`;
    }
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'out1', 'manifest.json'), 'utf8')) as { tomograms: { name: string; peakRssMiB?: number; outputs: { file: string }[] }[] };
    const rows: DatasetRow[] = [];
    for (const [i, t] of manifest.tomograms.entries()) {
      const picks = await readPicks(t.outputs[0].file, { voxelSize: 10 });
      rows.push({ tomogram: t.name, seed: seeds[i], particles: truths[i].length, referenceF1: scorePicks(picks, truths[i], radii[i]).f1, ownClickF1: ownF1[i], peakRssMiB: t.peakRssMiB ?? NaN });
    }
    return { preset, seeds, rows, serialSeconds, jobs2Seconds, slurmSeconds, slurmNote, rerunSeconds, cores: os.availableParallelism(), singlePick };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
