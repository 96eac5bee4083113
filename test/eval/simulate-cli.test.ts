import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { simulationConfigFromOptions } from '../../src/cli/simulate.js';
import { CryosamError } from '../../src/errors.js';

test('command-line options override the preset', async () => {
  const config = await simulationConfigFromOptions({
    preset: 'realistic',
    seed: 1,
    shape: [40, 64, 64],
    snr: null,
    wedge: 45,
    classes: [{ map: '4v94', count: 2 }, { map: '1bxn' }, { map: '3qm1' }],
    target: '4v94',
    count: 3,
  });
  assert.deepEqual(config.shape, [40, 64, 64]);
  assert.equal(config.snr, null);
  assert.equal(config.tiltRangeDeg, 45);
  assert.deepEqual(config.classes, [
    { map: '4v94', count: 3, role: 'target' },
    { map: '1bxn', count: 10, role: 'distractor' },
    { map: '3qm1', count: 10, role: 'distractor' },
  ]);
  await assert.rejects(simulationConfigFromOptions({ preset: 'easy', seed: 1, target: '4v94' }), CryosamError);
  await assert.rejects(simulationConfigFromOptions({ preset: 'nope', seed: 1 }), /unknown preset/);
});

test('cryosam simulate writes the files it lists, the same bytes for the same seed', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-simcli-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const args = ['--shape', '32,64,64', '--classes', '1bxn:3,3qm1:2', '--target', '1bxn', '--snr', '0.5', '--format', 'star', '--quiet'];
  const a = await runCli(['simulate', path.join(dir, 'a'), ...args]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /64×64×32 voxels \(x×y×z\) at 10 Å\/voxel/);
  assert.match(a.stdout, /1bxn\s+target\s+1\s+3\/3/);
  assert.match(a.stdout, /picks_all\.star/);
  const b = await runCli(['simulate', path.join(dir, 'b'), ...args]);
  assert.equal(b.code, 0, b.stderr);
  for (const file of ['tomogram.mrc', 'labels.mrc', 'picks_all.star', 'picks_1bxn.star', 'picks_3qm1.star']) {
    assert.deepEqual(await fs.readFile(path.join(dir, 'a', file)), await fs.readFile(path.join(dir, 'b', file)), file);
  }
  const report = JSON.parse(await fs.readFile(path.join(dir, 'a', 'report.json'), 'utf8'));
  assert.equal(report.command, 'simulate');
  const bad = await runCli(['simulate', path.join(dir, 'c'), '--classes', 'nosuchmap', '--target', 'nosuchmap', '--quiet']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /no density map 'nosuchmap'/);
  const help = await runCli(['simulate', '--help']);
  assert.match(help.stdout, /realistic\s+160×384×384/);
});
