import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readPicks } from '../../src/io/coords/index.js';
import { scorePicks } from '../../src/eval/score.js';
import { readMrc, writeMrc } from '../../src/io/mrc/index.js';
import { runCli } from '../helpers/cli.js';
import { scatter, synthetic } from '../pipeline/synthetic.js';

let dir: string;
let tomo: string;
const shape = [32, 48, 48] as const;
const particles = scatter(shape, 16, 8, ['sphere'], 1);
const env = () => ({ CRYOSAM_CACHE: path.join(dir, 'cache') });

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-cli-pipeline-'));
  tomo = path.join(dir, 'tomo.mrc');
  await writeMrc(tomo, synthetic(shape, particles, { radius: 4, contrast: 3, seed: 2 }).volume);
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('pick writes picks, semantic mask, instance labels and a run report; a second run notes the cache', async () => {
  const p = particles[0];
  const out = path.join(dir, 'picks.star');
  const args = ['pick', tomo, '--at', `${p.x},${p.y},${p.z}`, '-o', out, '--mask', path.join(dir, 'mask.mrc'), '--labels', path.join(dir, 'labels.mrc')];
  const r = await runCli(args, { env: env() });
  assert.equal(r.code, 0, r.stderr);
  const picks = await readPicks(out, { voxelSize: 10 });
  assert.ok(picks.length >= 1);
  assert.ok(picks.some((q) => Math.hypot(q.x - p.x, q.y - p.y, q.z - p.z) < 2), 'the prompted particle is picked');
  const labels = await readMrc(path.join(dir, 'labels.mrc'));
  const mask = await readMrc(path.join(dir, 'mask.mrc'));
  assert.deepEqual(labels.shape, shape);
  const ids = new Set(Array.from(labels.data).filter((v) => v > 0));
  assert.equal(ids.size, picks.length, 'one label per pick');
  assert.equal(Array.from(mask.data).filter((v) => v > 0).length, Array.from(labels.data).filter((v) => v > 0).length);
  const report = JSON.parse(await fs.readFile(`${out}.report.json`, 'utf8'));
  assert.equal(report.command, 'pick');
  assert.equal(report.picks, picks.length);
  assert.ok(report.stages.length >= 4 && report.peakRssMiB > 0);
  assert.ok(report.engines.segmenter.name && report.engines.features.name);

  assert.match(r.stderr, new RegExp(`wrote ${picks.length} picks to .*picks\\.star \\(1 prompted\\); run report`), 'says what it wrote');
  assert.match(r.stderr, /the template cut (left out the missing wedge|compared all Fourier components)/, 'says how the densities were compared');

  const again = await runCli(args, { env: env() });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /reused cached results/);
  const info = await runCli(['cache', 'info', '--json'], { env: env() });
  assert.ok(JSON.parse(info.stdout).files > 0);
  const cleared = await runCli(['cache', 'clear'], { env: env() });
  assert.match(cleared.stdout, /removed \d+ cache entries/);
});

test('segment writes a mask; prompts outside the tomogram fail naming the file, writing nothing', async () => {
  const p = particles[1];
  const out = path.join(dir, 'seg.mrc');
  const r = await runCli(['segment', tomo, '--at', `${p.x},${p.y},${p.z}`, '-o', out, '--no-cache', '--quiet'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /wrote/, '--quiet: no notes');
  const mask = await readMrc(out);
  const n = Array.from(mask.data).filter((v) => v > 0).length;
  assert.ok(n > 100 && n < 1000, `${n} voxels`);

  const bad = path.join(dir, 'bad.star');
  const e = await runCli(['pick', tomo, '--at', '100,5,5', '-o', bad, '--no-cache'], { env: env() });
  assert.notEqual(e.code, 0);
  assert.match(e.stderr, /tomo\.mrc.*outside/);
  await assert.rejects(fs.stat(bad));
  const noPrompt = await runCli(['pick', tomo, '-o', bad], { env: env() });
  assert.notEqual(noPrompt.code, 0);
  assert.match(noPrompt.stderr, /--at/);
});

test('pick records the missing wedge it left out: given, estimated or none; bad tilt ranges fail', async () => {
  const p = particles[2];
  const out = path.join(dir, 'wedge.star');
  const given = await runCli(['pick', tomo, '--at', `${p.x},${p.y},${p.z}`, '-o', out, '--tilt-range', '-50,55', '--tilt-axis', 'x', '-q'], { env: env() });
  assert.equal(given.code, 0, given.stderr);
  const report = JSON.parse(await fs.readFile(`${out}.report.json`, 'utf8'));
  assert.deepEqual(report.options.tiltRange, { axis: 'x', minDeg: -50, maxDeg: 55 });
  assert.deepEqual(report.options.missingWedge, { axis: 'x', beam: 'z', minDeg: -50, maxDeg: 55, source: 'given' });
  // The synthetic tomogram has no wedge: auto finds none, and says so.
  const auto = await runCli(['pick', tomo, '--at', `${p.x},${p.y},${p.z}`, '-o', out, '-q'], { env: env() });
  assert.equal(auto.code, 0, auto.stderr);
  const autoReport = JSON.parse(await fs.readFile(`${out}.report.json`, 'utf8'));
  assert.equal(autoReport.options.tiltRange, 'auto');
  assert.equal(autoReport.options.missingWedge, 'none');
  for (const bad of [['--tilt-range', '60,-60'], ['--tilt-range', '-100,60'], ['--tilt-range', 'wedge'], ['--tilt-axis', 'x']]) {
    const r = await runCli(['pick', tomo, '--at', `${p.x},${p.y},${p.z}`, '-o', path.join(dir, 'never.star'), ...bad], { env: env() });
    assert.notEqual(r.code, 0, bad.join(' '));
    assert.match(r.stderr, /tilt/, r.stderr);
  }
  await assert.rejects(fs.stat(path.join(dir, 'never.star')));
});

// The fixture above is too small to give proposals beyond the prompt, so matching, proposal
// segmentation and the template cut do nothing there. The simulator's easy preset (96³: 8 ribosomes
// among 8 smaller proteins, a few seconds to pick) exercises them, and has a ground truth to meet.
test('pick on a simulated tomogram: matching proposes beyond the prompt, the ribosomes are found, the small proteins are not', async (t) => {
  const sim = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-cli-pick-sim-'));
  t.after(() => fs.rm(sim, { recursive: true, force: true }));
  const simulated = await runCli(['simulate', sim, '--preset', 'easy', '--seed', '2', '--quiet']);
  assert.equal(simulated.code, 0, simulated.stderr);
  const manifest = JSON.parse(await fs.readFile(path.join(sim, 'simulation.json'), 'utf8')) as {
    voxelSizeA: number;
    classes: { id: string; role: string; radiusVoxels: number }[];
    files: { tomogram: string; picksByClass: Record<string, string> };
  };
  const target = manifest.classes.find((c) => c.role === 'target');
  assert.ok(target, 'the easy preset has a target class');
  const truth = await readPicks(path.join(sim, manifest.files.picksByClass[target.id]), { voxelSize: manifest.voxelSizeA });
  assert.ok(truth.length >= 5, `${truth.length} target particles`);
  const prompt = { x: Math.round(truth[0].x), y: Math.round(truth[0].y), z: Math.round(truth[0].z) };

  const out = path.join(sim, 'picks.star');
  const r = await runCli(['pick', path.join(sim, manifest.files.tomogram), '--at', `${prompt.x},${prompt.y},${prompt.z}`, '-o', out, '--no-cache', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const picks = await readPicks(out, { voxelSize: manifest.voxelSizeA });
  const score = scorePicks(picks, truth, target.radiusVoxels);
  const summary = `${picks.length} picks, TP ${score.tp} FP ${score.fp} FN ${score.fn} within ${target.radiusVoxels.toFixed(1)} voxels`;
  assert.ok(score.recall >= 0.8, `recall ${score.recall.toFixed(3)}: ${summary}`);
  assert.ok(score.precision >= 0.8, `precision ${score.precision.toFixed(3)}: ${summary}`);
  assert.ok(picks.some((q) => Math.hypot(q.x - prompt.x, q.y - prompt.y, q.z - prompt.z) < 3), 'the prompted particle is picked');

  // The run report shows the stages after the prompt's own segmentation ran and had work to do.
  const report = JSON.parse(await fs.readFile(`${out}.report.json`, 'utf8'));
  assert.equal(report.command, 'pick');
  assert.equal(report.prompts.length, 1);
  assert.equal(report.picks, picks.length);
  assert.ok(report.proposals > report.prompts.length, `${report.proposals} proposals from ${report.prompts.length} prompt`);
  assert.ok(report.proposals >= truth.length - 1, `${report.proposals} proposals for ${truth.length - 1} unprompted ribosomes`);
  const stages = (report.stages as { name: string; seconds: number }[]).map((s) => s.name);
  for (const stage of [/match/, /proposal/, /cut/]) {
    assert.ok(stages.some((name) => stage.test(name)), `no stage like ${stage} in ${stages.join(', ')}`);
  }
  for (const s of report.stages as { name: string; seconds: number }[]) assert.ok(s.seconds >= 0, `${s.name}: ${s.seconds} s`);
  const rejected = Object.entries(report.rejected as Record<string, number>);
  assert.ok(rejected.length > 0, 'rejected proposals are counted by reason');
  for (const [reason, n] of rejected) assert.ok(Number.isInteger(n) && n >= 0, `rejected ${reason}: ${n}`);
  // The checks after proposal segmentation had something to reject.
  assert.ok(rejected.reduce((sum, [, n]) => sum + n, 0) > 0, `no proposal rejected: ${JSON.stringify(report.rejected)}`);
});
