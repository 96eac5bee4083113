/**
 * The "many" section of `npm run bench`: one click on a real-size tomogram (200×1024² voxels at
 * 10 Å, the realistic preset's mix and imaging) holding few and many ribosomes, as a user runs it
 * (`cryosam simulate`, `cryosam pick --at`). How many proposals an automatic count segments must
 * follow the tomogram: the pick of 900 should find them all, in time in proportion to the pick
 * of 120 (issue: F1 ≥ 0.90 in at most 3× the time).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scorePicks } from '../src/eval/score.js';
import { readPicks } from '../src/io/coords/index.js';
import { must, simulateTargets, timed } from './cli.js';

export interface ManyRow {
  /** Target ribosomes in the tomogram. */
  particles: number;
  picks: number;
  precision: number;
  recall: number;
  f1: number;
  /** Wall-clock seconds of the pick command. */
  seconds: number;
  /** Proposals the automatic count could segment, and those it segmented. */
  proposals: number;
  segmented: number;
  /** Rounds of segmenting and cutting (more after the first while the cut keeps targets to the end). */
  rounds: number;
  peakRssMiB: number;
}

export interface ManyBench {
  preset: string;
  shape: [number, number, number];
  seed: number;
  rows: ManyRow[];
}

interface PickReportFile {
  seconds: number;
  proposals: number;
  segmented: number;
  picks: number;
  peakRssMiB: number;
  stages: { name: string }[];
}

export async function benchMany(shape: [number, number, number], counts: readonly number[], seed: number, log: (line: string) => void): Promise<ManyBench> {
  const preset = 'realistic';
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-bench-many-'));
  try {
    const rows: ManyRow[] = [];
    for (const count of counts) {
      log(`many: simulating ${preset} ${shape.join('×')} with ${count} ribosomes (seed ${seed})`);
      const sim = path.join(dir, `sim${count}`);
      const { truth, radius, click } = await simulateTargets(sim, ['--preset', preset, '--shape', shape.join(','), '--count', String(count), '--seed', String(seed)]);
      log(`many: one click on ${count} ribosomes`);
      const out = path.join(dir, `picks${count}.star`);
      const seconds = await timed(() => must(['pick', path.join(sim, 'tomogram.mrc'), '--at', click, '-o', out, '--no-cache', '-q']));
      const report = JSON.parse(await fs.readFile(`${out}.report.json`, 'utf8')) as PickReportFile;
      // Scored as cryosam eval --labels does: matched within the target's equivalent-sphere radius.
      const score = scorePicks(await readPicks(out, { voxelSize: 10 }), truth, radius);
      rows.push({
        particles: truth.length, picks: report.picks, precision: score.precision, recall: score.recall, f1: score.f1, seconds,
        proposals: report.proposals, segmented: report.segmented, rounds: 1 + report.stages.filter((s) => s.name === 'segment more proposals').length,
        peakRssMiB: report.peakRssMiB,
      });
      await fs.rm(sim, { recursive: true, force: true });
    }
    return { preset, shape, seed, rows };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
