/**
 * The "dataset" section of `npm run bench`: a dataset picked from one click, as a user runs it
 * through the CLI. Several tomograms of one preset (different seeds) are simulated; a reference is
 * saved from a click on the first target particle of the first; every tomogram is picked both with
 * that reference (`cryosam batch`) and from a click in itself (`cryosam pick --at`), and scored
 * against its truth. Throughput: the same batch serially, with --jobs 2, through Slurm when a
 * cluster answers, and a rerun of the finished batch; peak memory per worker from the manifest; one
 * pick with one worker thread and with one per core (identical picks required), beside the
 * machine's ceiling for that gain (the one-thread pick as one process per core, all at once).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { scorePicks } from '../src/eval/score.js';
import { readPicks } from '../src/io/coords/index.js';
import { must, simulateTargets, timed, type SimulatedTargets } from './cli.js';

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
  /**
   * The machine's own ceiling for that speed-up: the one-thread pick run as `cores` separate
   * processes at once (nothing shared, nothing waited for); `seconds` is the slowest one's wall
   * time, and cores × (one alone) / seconds is the most any threading of the pick could gain here.
   */
  concurrent?: { processes: number; seconds: number; ceiling: number };
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
    const targets: SimulatedTargets[] = [];
    for (const seed of seeds) {
      log(`dataset: simulating ${preset} seed ${seed}`);
      const sim = path.join(dir, `sim${seed}`);
      targets.push(await simulateTargets(sim, ['--preset', preset, '--seed', String(seed)]));
      await fs.mkdir(path.join(dir, 'data', `TS_${seed}`), { recursive: true });
      const tomo = path.join(dir, 'data', `TS_${seed}`, 'tomogram.mrc');
      await fs.rename(path.join(sim, 'tomogram.mrc'), tomo);
      tomos.push(tomo);
    }
    const click = (i: number) => targets[i].click;
    const ref = path.join(dir, 'reference');
    log('dataset: reference from one click in the first tomogram');
    await must(['pick', tomos[0], '--at', click(0), '-o', path.join(dir, 'ref.star'), '--save-reference', ref, '--no-cache', '-q']);
    const ownF1: number[] = [];
    for (const [i, tomo] of tomos.entries()) {
      log(`dataset: own click in tomogram ${i + 1}/${tomos.length}`);
      const out = path.join(dir, `own${i}.star`);
      await must(['pick', tomo, '--at', click(i), '-o', out, '--no-cache', '-q']);
      ownF1.push(scorePicks(await readPicks(out, { voxelSize: 10 }), targets[i].truth, targets[i].radius).f1);
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
    const processes = os.availableParallelism();
    log(`dataset: the one-thread pick as ${processes} processes at once (the machine's ceiling)`);
    const concurrentSeconds = await timed(() =>
      Promise.all(Array.from({ length: processes }, (_, k) => must(['pick', tomos[0], '--at', click(0), '-o', path.join(dir, `concurrent${k}.star`), '--no-cache', '-q', '--workers', '1']))),
    );
    const concurrent = { processes, seconds: concurrentSeconds, ceiling: (processes * singlePick[0].seconds) / concurrentSeconds };
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
      rows.push({ tomogram: t.name, seed: seeds[i], particles: targets[i].truth.length, referenceF1: scorePicks(picks, targets[i].truth, targets[i].radius).f1, ownClickF1: ownF1[i], peakRssMiB: t.peakRssMiB ?? NaN });
    }
    return { preset, seeds, rows, serialSeconds, jobs2Seconds, slurmSeconds, slurmNote, rerunSeconds, cores: os.availableParallelism(), singlePick, concurrent };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
