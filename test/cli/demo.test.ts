import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';

test('cryosam demo picks the simulated ribosomes from one prompt and prints F1', async (t) => {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-demo-test-'));
  t.after(() => fs.rm(out, { recursive: true, force: true }));
  const { code, stdout, stderr } = await runCli(['demo', '--out', out, '--quiet']);
  assert.equal(code, 0, stderr);
  const f1 = /^F1 (\d+(?:\.\d+)?)$/m.exec(stdout);
  assert.ok(f1, `no F1 line in:\n${stdout}`);
  const value = Number(f1[1]);
  assert.ok(value >= 0 && value <= 1, `F1 ${value}`);
  assert.match(stdout, /precision \d\.\d{3} {2}recall \d\.\d{3}/);
  const report = JSON.parse(await fs.readFile(path.join(out, 'report.json'), 'utf8'));
  assert.equal(report.command, 'demo');
  const { tp, fp, fn } = report.score;
  assert.ok(Math.abs((2 * tp) / (2 * tp + fp + fn) - value) < 5e-4, 'printed F1 agrees with the counts');
  assert.ok(tp >= 1, 'at least the prompted particle is found');
  await fs.access(path.join(out, 'picks.csv'));
  await fs.access(path.join(out, 'tomogram.mrc'));
});
