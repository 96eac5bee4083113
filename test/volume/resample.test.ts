import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binVolume, downsampleSlice, rescaleVolume, resizeSlice } from '../../src/volume/resample.js';
import { createVolume } from '../../src/volume/volume.js';

test('binning averages blocks, including a partial last block, and scales the voxel size', () => {
  const vol = createVolume([2, 3, 5], 10);
  vol.origin = { x: 0, y: 0, z: 0 };
  vol.data.set(Float32Array.from({ length: 30 }, (_, i) => i));
  const b = binVolume(vol, 2);
  assert.deepEqual(b.shape, [1, 2, 3]);
  assert.deepEqual(b.voxelSize, { x: 20, y: 20, z: 20 });
  assert.deepEqual(b.origin, { x: 5, y: 5, z: 5 });
  // Block (0,0,0) holds x∈{0,1}, y∈{0,1}, z∈{0,1}: values 0,1,5,6,15,16,20,21.
  assert.equal(b.data[0], (0 + 1 + 5 + 6 + 15 + 16 + 20 + 21) / 8);
  // Last x block holds only x=4; last y block only y=2: values 14, 29.
  assert.equal(b.data[5], (14 + 29) / 2);
  assert.throws(() => binVolume(vol, 1.5));
  assert.deepEqual(binVolume(vol, 1).data, vol.data);
});

test('rescaling keeps a linear ramp linear, conserves the mean and sets the voxel size', () => {
  const vol = createVolume([4, 8, 40], 5);
  for (let z = 0; z < 4; z++) for (let y = 0; y < 8; y++) for (let x = 0; x < 40; x++) vol.data[(z * 8 + y) * 40 + x] = x;
  const r = rescaleVolume(vol, 10);
  assert.deepEqual(r.shape, [2, 4, 20]);
  assert.deepEqual(r.voxelSize, { x: 10, y: 10, z: 10 });
  // Output voxel k centres on input position 2k + 0.5 (away from the borders, where weights are renormalised).
  for (let k = 2; k < 18; k++) assert.ok(Math.abs(r.data[k] - (2 * k + 0.5)) < 1e-4, `k=${k}: ${r.data[k]}`);
  const up = rescaleVolume(vol, { x: 2.5, y: 5, z: 5 });
  assert.deepEqual(up.shape, [4, 8, 80]);
  for (let k = 2; k < 78; k++) assert.ok(Math.abs(up.data[k] - (k / 2 - 0.25)) < 1e-4);
  assert.throws(() => rescaleVolume(vol, 0));
});

test('shrinking a checkerboard is anti-aliased to its mean', () => {
  const s = { data: Float32Array.from({ length: 64 * 64 }, (_, i) => ((i >> 6) + (i & 63)) % 2), height: 64, width: 64 };
  const small = resizeSlice(s, 16, 16);
  for (const v of small.data) assert.ok(Math.abs(v - 0.5) < 0.05, `${v}`);
  const big = resizeSlice({ data: Float32Array.of(0, 1, 2, 3), height: 2, width: 2 }, 4, 4);
  assert.equal(big.height, 4);
  assert.ok(Math.abs(big.data[5] - 0.75) < 1e-6, `bilinear centre ${big.data[5]}`);
});

test('downsampleSlice mean-pools blocks with partial blocks at the edges', () => {
  const s = { data: Float32Array.from({ length: 15 }, (_, i) => i), height: 3, width: 5 };
  const d = downsampleSlice(s, 2);
  assert.deepEqual([d.height, d.width], [2, 3]);
  assert.deepEqual([...d.data], [3, 5, 6.5, 10.5, 12.5, 14]);
});
