import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { sharedDir } from '../../src/paths.js';
import { readMrc } from '../../src/io/mrc/index.js';

const toy = path.join(sharedDir(), 'data', 'deepfinder_toy100');
const gt = path.join(toy, 'tomo1_gt.csv');
const labels = path.join(toy, 'tomo1_target.mrc');
const tomogram = path.join(toy, 'tomo1_data.mrc');

interface Row {
  className: string;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
  distanceVoxels: number | null;
}
interface Result {
  classes: Row[];
  overall: Row;
  segmentation: { dice: number; iou: number; tp: number; fp: number; fn: number; label: number | null } | null;
}

async function evalJson(args: string[]): Promise<Result> {
  const r = await runCli(['eval', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Result;
}

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-eval-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The ground truth rows as [class, x, y, z]. */
async function gtRows(): Promise<number[][]> {
  const lines = (await fs.readFile(gt, 'utf8')).trim().split('\n').slice(1);
  return lines.map((l) => l.split(',').map(Number));
}

test('DeepFinder ground truth scored against itself: F1 = 1 for every class', async () => {
  const r = await evalJson(['--picks', gt, '--truth', gt, '--labels', labels, '--tomogram', tomogram]);
  assert.equal(r.classes.length, 9);
  for (const c of r.classes) {
    assert.deepEqual([c.tp, c.fp, c.fn, c.f1], [3, 0, 0, 1], `class ${c.className}`);
    // Radii estimated from the label volume: DeepFinder particles are 5–8 voxels in radius.
    assert.ok(c.distanceVoxels! > 4 && c.distanceVoxels! < 9, `radius ${c.distanceVoxels}`);
  }
  assert.deepEqual([r.overall.tp, r.overall.fp, r.overall.fn, r.overall.f1], [27, 0, 0, 1]);
});

test('dropped and displaced picks: scores as counted by hand', async (t) => {
  const dir = await tempDir(t);
  const rows = await gtRows();
  // Drop one particle of classes 1, 2 and 9; move one of class 4 and one of class 6 20 voxels
  // along x (away from any particle of their class); move two more by 2 voxels (still matched).
  const firstOf = (cls: number) => rows.findIndex((r) => r[0] === cls);
  const dropped = new Set([firstOf(1), firstOf(2), firstOf(9)]);
  const far = new Set([firstOf(4), firstOf(6)]);
  const near = new Set([firstOf(3), firstOf(7)]);
  const picks = rows.flatMap((r, i) => {
    if (dropped.has(i)) return [];
    const dx = far.has(i) ? 20 : near.has(i) ? 2 : 0;
    return [[r[0], r[1] + dx, r[2], r[3]]];
  });
  const file = path.join(dir, 'picks.csv');
  await fs.writeFile(file, 'class,x,y,z\n' + picks.map((r) => r.join(',')).join('\n') + '\n');

  const r = await evalJson(['--picks', file, '--truth', gt, '--labels', labels]);
  // 24 picks, 22 matched; 27 particles, 5 missed.
  assert.deepEqual([r.overall.tp, r.overall.fp, r.overall.fn], [22, 2, 5]);
  assert.equal(r.overall.precision, 22 / 24);
  assert.equal(r.overall.recall, 22 / 27);
  assert.equal(r.overall.f1, 44 / 51);
  const c4 = r.classes.find((c) => c.className === '4')!;
  assert.deepEqual([c4.tp, c4.fp, c4.fn, c4.f1], [2, 1, 1, 4 / 6]);

  // A 1-voxel distance also rejects the 2-voxel shifts; 1.5 voxels at 10 Å/voxel is 15 Å.
  const tight = await evalJson(['--picks', file, '--truth', gt, '--distance', '1']);
  assert.deepEqual([tight.overall.tp, tight.overall.fp, tight.overall.fn, tight.overall.f1], [20, 4, 7, 40 / 51]);
  const angstrom = await evalJson(['--picks', file, '--truth', gt, '--voxel-size', '10', '--distance-angstrom', '15']);
  assert.equal(angstrom.overall.f1, 40 / 51);
  assert.equal(angstrom.classes[0].distanceVoxels, 1.5);

  // One class: --class selects it on both sides; the table names it.
  const only4 = await runCli(['eval', '--picks', file, '--truth', gt, '--labels', labels, '--class', '4']);
  assert.equal(only4.code, 0, only4.stderr);
  assert.match(only4.stdout, /^4\s+3\s+3\s+2\s+1\s+1\s+0\.667\s+0\.667\s+0\.667/m);
});

test('picks without classes against one ground-truth class, with a run report', async (t) => {
  const dir = await tempDir(t);
  const rows = (await gtRows()).filter((r) => r[0] === 9);
  const file = path.join(dir, 'class9.csv');
  await fs.writeFile(file, 'x,y,z\n' + rows.slice(1).map((r) => [r[1] + 1, r[2], r[3]].join(',')).join('\n') + '\n');
  const report = path.join(dir, 'report.json');
  const r = await runCli(['eval', '--picks', file, '--truth', gt, '--labels', labels, '--truth-class', '9', '--report', report, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as Result;
  assert.equal(result.classes.length, 1);
  assert.deepEqual([result.overall.tp, result.overall.fp, result.overall.fn], [2, 0, 1]);
  assert.ok(Math.abs(result.classes[0].distanceVoxels! - 7.1) < 0.2, `class 9 radius ${result.classes[0].distanceVoxels}`);
  const written = JSON.parse(await fs.readFile(report, 'utf8')) as { command: string; result: Result };
  assert.equal(written.command, 'eval');
  assert.equal(written.result.overall.tp, 2);
});

test('segmentation: mask against the label volume, one label or all', async () => {
  const volume = await readMrc(labels);
  let label3 = 0;
  let nonZero = 0;
  for (const v of volume.data) {
    if (v !== 0) nonZero++;
    if (v === 3) label3++;
  }
  const r = await evalJson(['--mask', labels, '--labels', labels, '--label', '3']);
  assert.deepEqual([r.segmentation!.tp, r.segmentation!.fp, r.segmentation!.fn], [label3, nonZero - label3, 0]);
  assert.equal(r.segmentation!.dice, (2 * label3) / (label3 + nonZero));
  const all = await evalJson(['--mask', labels, '--labels', labels]);
  assert.equal(all.segmentation!.dice, 1);
});

test('missing inputs fail with a message', async () => {
  const noTruth = await runCli(['eval', '--picks', gt]);
  assert.notEqual(noTruth.code, 0);
  assert.match(noTruth.stderr, /--truth/);
  const noDistance = await runCli(['eval', '--picks', gt, '--truth', gt]);
  assert.notEqual(noDistance.code, 0);
  assert.match(noDistance.stderr, /--distance/);
  const badNumber = await runCli(['eval', '--picks', gt, '--truth', gt, '--distance', 'far']);
  assert.notEqual(badNumber.code, 0);
  assert.match(badNumber.stderr, /distance must be a number/);
});
