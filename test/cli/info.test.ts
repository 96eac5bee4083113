import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readMrc } from '../../src/io/mrc/index.js';
import { sharedDir } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';

const fixture = (name: string) => path.join(sharedDir(), 'data', 'fixtures', name);

test('info --json reports shape, voxel size, mode, origin and statistics computed from the data', async () => {
  const file = fixture('mrcfile/EMD-3197.map');
  const { code, stdout, stderr } = await runCli(['info', '--json', file]);
  assert.equal(code, 0, stderr);
  const info = JSON.parse(stdout) as Record<string, unknown>;
  assert.deepEqual(info.shape, [20, 20, 20]);
  assert.equal(info.voxelSize, 11.4);
  assert.deepEqual(info.voxelSizeXYZ, [11.4, 11.4, 11.4]);
  assert.equal(info.mode, 2);
  assert.deepEqual(info.origin, [0, 0, 0]);
  const { data } = await readMrc(file);
  let sum = 0;
  for (const v of data) sum += v;
  const mean = sum / data.length;
  let sq = 0;
  for (const v of data) sq += (v - mean) ** 2;
  assert.equal(info.min, Math.min(...data));
  assert.equal(info.max, Math.max(...data));
  assert.ok(Math.abs((info.mean as number) - mean) < 1e-12);
  assert.ok(Math.abs((info.rms as number) - Math.sqrt(sq / data.length)) < 1e-12);
  assert.equal(info.byteOrder, 'little-endian');
});

test('info describes permuted axes, anisotropic voxels and extended headers in text', async () => {
  const { code, stdout } = await runCli(['info', fixture('mrcfile/EMD-3001.map')]);
  assert.equal(code, 0);
  assert.match(stdout, /^shape +73, 25, 43 \(nz, ny, nx\)$/m);
  assert.match(stdout, /^mode +2 \(float32\)$/m);
  assert.match(stdout, /^voxel size +0\.44825, 0\.3925, 0\.45875 Å \(x, y, z\)$/m);
  assert.match(stdout, /^axis order +3, 1, 2 \(mapc, mapr, maps\)$/m);
  assert.match(stdout, /^ext\. header +160 bytes/m);
  const json = JSON.parse((await runCli(['info', '--json', fixture('mrcfile/EMD-3001.map')])).stdout) as Record<string, unknown>;
  assert.equal(json.voxelSize, null);
});

test('info reads big-endian, compressed and unsigned-byte files', async () => {
  const be = await runCli(['info', fixture('mrcfile/EMD-3197_bigendian.map')]);
  assert.match(be.stdout, /^byte order +big-endian$/m);
  const bz = JSON.parse((await runCli(['info', '--json', fixture('mrcfile/EMD-3197.map.bz2')])).stdout) as Record<string, unknown>;
  assert.deepEqual(bz.shape, [20, 20, 20]);
  const u8 = JSON.parse(
    (await runCli(['info', '--json', fixture('cryoet_portal_backend/sample_tomos__unsigned_ints.mrc')])).stdout,
  ) as Record<string, unknown>;
  assert.equal(u8.modeName, 'uint8');
  assert.equal(u8.max, 255);
  assert.equal(u8.min, 0);
});

test('info on bad input exits non-zero with a message naming the file', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-info-'));
  try {
    const text = path.join(dir, 'readme.mrc');
    await fs.writeFile(text, 'not a map\n'.repeat(200));
    const bad = await runCli(['info', text]);
    assert.notEqual(bad.code, 0);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, new RegExp(`${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not an MRC file`));
    const missing = path.join(dir, 'absent.mrc');
    const gone = await runCli(['info', missing]);
    assert.notEqual(gone.code, 0);
    assert.ok(gone.stderr.includes(`${missing}: file not found`), gone.stderr);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('info --help documents the JSON fields and their units', async () => {
  const { code, stdout } = await runCli(['info', '--help']);
  assert.equal(code, 0);
  assert.match(stdout, /--json/);
  assert.match(stdout, /voxelSize in Å/);
  assert.match(stdout, /shape \[nz, ny, nx\]/);
});
