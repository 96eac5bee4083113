import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';

// Slow (npm run test:all; ~9 s): simulates the easy preset and picks it in process.

test('cryosam demo picks the simulated ribosomes from one prompt and prints F1', async (t) => {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-demo-test-'));
  t.after(() => fs.rm(out, { recursive: true, force: true }));
  const { code, stdout, stderr } = await runCli(['demo', '--out', out, '--quiet']);
  assert.equal(code, 0, stderr);
  const f1 = /^F1 (\d+(?:\.\d+)?)$/m.exec(stdout);
  assert.ok(f1, `no F1 line in:\n${stdout}`);
  const pr = /^precision (\d\.\d{3}) {2}recall (\d\.\d{3})$/m.exec(stdout);
  assert.ok(pr, `no precision/recall line in:\n${stdout}`);
  const [value, precision, recall] = [Number(f1[1]), Number(pr[1]), Number(pr[2])];
  // The easy preset from one prompt is the method's showcase: it measures 1.000 / 1.000 / 1.000.
  assert.ok(value >= 0.9, `F1 ${value} < 0.9:\n${stdout}`);
  assert.ok(precision >= 0.9, `precision ${precision} < 0.9:\n${stdout}`);
  assert.ok(recall >= 0.9, `recall ${recall} < 0.9:\n${stdout}`);
  const report = JSON.parse(await fs.readFile(path.join(out, 'report.json'), 'utf8'));
  assert.equal(report.command, 'demo');
  const { tp, fp, fn } = report.score;
  assert.ok(Math.abs((2 * tp) / (2 * tp + fp + fn) - value) < 5e-4, 'printed F1 agrees with the counts');
  assert.ok(Math.abs(tp / (tp + fp) - precision) < 5e-4 && Math.abs(tp / (tp + fn) - recall) < 5e-4, 'printed precision and recall agree with the counts');
  assert.ok(report.score.f1 >= 0.9 && report.score.precision >= 0.9 && report.score.recall >= 0.9, JSON.stringify(report.score));
  assert.ok(tp >= 1, 'at least the prompted particle is found');
  await fs.access(path.join(out, 'picks.csv'));
  await fs.access(path.join(out, 'tomogram.mrc'));
});
