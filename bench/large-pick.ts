/**
 * Child process of `npm run bench`: one full single-prompt pick on a tomogram read from an MRC
 * file, in a process of its own so that the peak RSS of each stage belongs to this pick alone.
 * Then the same prompt with naive matching, for the hierarchical/naive time ratio.
 * Usage: node large-pick.js INPUT.json — prints one JSON object (LargePickResult) on stdout.
 */
import { promises as fs } from 'node:fs';
import { peakRssMiB } from '../src/memory.js';
import type { EngineOptions } from '../src/engines/registry.js';
import { scorePicks } from '../src/eval/score.js';
import type { Pick } from '../src/io/coords/pick.js';
import { readMrc } from '../src/io/mrc/index.js';
import { CryoSam } from '../src/pipeline/cryosam.js';
import type { PickReport, VoxelPoint } from '../src/pipeline/types.js';

export interface LargePickInput {
  tomogram: string;
  prompt: VoxelPoint;
  truth: Pick[];
  radiusVoxels: number;
  engine: EngineOptions;
}

export interface LargePickRun {
  seconds: number;
  matchingSeconds: number;
  picks: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface LargePickResult {
  shape: readonly number[];
  tomogramMiB: number;
  readSeconds: number;
  /** Peak RSS of the bare child before reading: Node.js and the loaded modules. */
  rssAtStartMiB: number;
  rssAfterReadMiB: number;
  /** Peak RSS once the tomogram is normalised and the engines are loaded. */
  rssAfterCreateMiB: number;
  createSeconds: number;
  hierarchical: LargePickRun & { report: PickReport };
  naive: LargePickRun;
  peakRssMiB: number;
}

/**
 * The tomogram read and handed to a CryoSam for particles, as `cryosam pick` does once its click is a
 * particle: the voxels are CryoSam's alone (this returns only their grid), so the one copy picked in
 * is all the pick holds.
 */
async function openForParticles(input: LargePickInput, onProgress: (e: { stage: string }) => void) {
  let t = performance.now();
  const tomogram = await readMrc(input.tomogram);
  const readSeconds = (performance.now() - t) / 1000;
  const rssAfterReadMiB = peakRssMiB();
  t = performance.now();
  const cryosam = await CryoSam.create(tomogram, { engine: input.engine, cacheDir: false, normalizeInPlace: true, structures: false, onProgress });
  return { cryosam, shape: tomogram.shape, tomogramMiB: tomogram.data.byteLength / 2 ** 20, readSeconds, rssAfterReadMiB, createSeconds: (performance.now() - t) / 1000 };
}

async function main(): Promise<void> {
  const input = JSON.parse(await fs.readFile(process.argv[2], 'utf8')) as LargePickInput;
  const rssAtStartMiB = peakRssMiB();
  // Stage changes go to stderr, which the parent passes through, so a long run shows where it is.
  let stage = '';
  const onProgress = (e: { stage: string }) => {
    if (e.stage === stage) return;
    stage = e.stage;
    process.stderr.write(`[large pick ${new Date().toISOString().slice(11, 19)}] ${stage}\n`);
  };
  const { cryosam, shape, tomogramMiB, readSeconds, rssAfterReadMiB, createSeconds } = await openForParticles(input, onProgress);
  const rssAfterCreateMiB = peakRssMiB();
  const run = async (matching: 'hierarchical' | 'naive') => {
    const started = performance.now();
    const result = await cryosam.pick([input.prompt], { matching });
    const seconds = (performance.now() - started) / 1000;
    const s = scorePicks(result.picks, input.truth, input.radiusVoxels);
    const matchingSeconds = result.report.stages.find((st) => st.name === 'matching')?.seconds ?? NaN;
    const summary: LargePickRun = { seconds, matchingSeconds, picks: result.picks.length, precision: s.precision, recall: s.recall, f1: s.f1 };
    return { summary, report: result.report };
  };
  const hierarchical = await run('hierarchical');
  const naive = await run('naive');
  await cryosam.dispose();
  const result: LargePickResult = {
    shape,
    tomogramMiB,
    readSeconds,
    rssAtStartMiB,
    rssAfterReadMiB,
    rssAfterCreateMiB,
    createSeconds,
    hierarchical: { ...hierarchical.summary, report: hierarchical.report },
    naive: naive.summary,
    peakRssMiB: peakRssMiB(),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`large-pick: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
