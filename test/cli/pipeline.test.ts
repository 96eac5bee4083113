import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readPicks } from '../../src/io/coords/index.js';
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
  assert.deepEqual(report.options.missingWedge, { axis: 'x', minDeg: -50, maxDeg: 55, source: 'given' });
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
