import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readPicks } from '../../src/io/coords/index.js';
import { readMrc } from '../../src/io/mrc/index.js';
import { sharedDir } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';

const MT = path.join(sharedDir(), 'data', 'real_microtubule', '14pf_MT.mrc');
const DEEPFINDER = path.join(sharedDir(), 'data', 'deepfinder_toy100', 'tomo1_data.mrc');

test('segment and pick a real microtubule from one click: report, helical STAR picks, instance masks', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-structures-'));
  try {
    const mask = path.join(dir, 'mt.mrc');
    const seg = await runCli(['segment', MT, '--at', '43,115,23', '-o', mask, '--no-cache']);
    assert.equal(seg.code, 0, seg.stderr);
    assert.match(seg.stderr, /filament \(found\): 1\d\d nm long, outer diameter 2\d\.\d nm, hollow/);
    const report = JSON.parse(await fs.readFile(`${mask}.report.json`, 'utf8'));
    assert.equal(report.instances[0].kind, 'filament');
    assert.equal(report.instances[0].clickedSlices.length, 3);
    const written = await readMrc(mask);
    assert.equal(written.data.reduce((n, v) => n + (v ? 1 : 0), 0), report.instances[0].voxels);

    const star = path.join(dir, 'mt.star'), labels = path.join(dir, 'labels.mrc');
    const pick = await runCli(['pick', MT, '--at', '43,115,23', '-o', star, '--labels', labels, '--filament-spacing', '80', '--no-cache']);
    assert.equal(pick.code, 0, pick.stderr);
    const picks = await readPicks(star, { voxelSize: 10.52 });
    assert.ok(picks.length >= 15, `${picks.length} axis points`);
    assert.ok(picks.every((p) => p.helicalTubeId === 1));
    // Every 80 Å along the filament, from 0.
    picks.forEach((p, i) => assert.ok(Math.abs(p.helicalTrackLengthA! - 80 * i) < 1e-3, `point ${i}: ${p.helicalTrackLengthA} Å`));
    const pr = JSON.parse(await fs.readFile(`${star}.report.json`, 'utf8'));
    assert.equal(pr.structure, 'filament');
    assert.ok(pr.found >= 1 && pr.structures[0].filament.lengthA > 1300);
    const inst = await readMrc(labels);
    assert.ok(inst.data.some((v) => v === 1));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a named structure that is not under the click fails with a clear message and writes nothing', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-structures-'));
  try {
    const out = path.join(dir, 'ice.mrc');
    const res = await runCli(['segment', MT, '--at', '20,20,10', '--structure', 'filament', '-o', out, '--no-cache']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /no filament found at x=20, y=20, z=10/);
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(await fs.readdir(dir), []);
    const two = await runCli(['pick', MT, '--at', '43,115,23', '--at', '30,60,23', '--structure', 'filament', '-o', path.join(dir, 'p.star'), '--no-cache']);
    assert.notEqual(two.code, 0);
    assert.match(two.stderr, /picks from one click/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a click in empty ice is refused as "no structure found"; a click on a small particle beside it is segmented', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-ice-'));
  try {
    // DeepFinder tomo1: (79, 53, 48) lies 6 voxels or more from every labelled particle; class 1's first particle is at (34, 16, 64).
    const ice = await runCli(['segment', DEEPFINDER, '--at', '79,53,48', '-o', path.join(dir, 'ice.mrc'), '--no-cache']);
    assert.equal(ice.code, 1, ice.stderr);
    assert.match(ice.stderr, /no structure found at x=79, y=53, z=48: the region segmented there \(\d+ voxels\) stands out of the noise by \d\.\d standard deviations/);
    assert.doesNotMatch(ice.stderr, /\n\s+at /, 'no stack trace');
    const pick = await runCli(['pick', DEEPFINDER, '--at', '79,53,48', '-o', path.join(dir, 'ice.star'), '--no-cache']);
    assert.equal(pick.code, 1, pick.stderr);
    assert.match(pick.stderr, /no structure found at x=79, y=53, z=48/);
    assert.deepEqual(await fs.readdir(dir), [], 'nothing written');
    const particle = await runCli(['segment', DEEPFINDER, '--at', '34,16,64', '-o', path.join(dir, 'p.mrc'), '--no-cache']);
    assert.equal(particle.code, 0, particle.stderr);
    const report = JSON.parse(await fs.readFile(path.join(dir, 'p.mrc.report.json'), 'utf8'));
    assert.equal(report.instances[0].kind, 'particle');
    assert.ok(report.instances[0].voxels > 100, `${report.instances[0].voxels} voxels`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
