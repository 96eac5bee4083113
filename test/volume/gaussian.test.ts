import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianFilter2d, gaussianFilter3d, gaussianKernel } from '../../src/volume/gaussian.js';
import { createVolume } from '../../src/volume/volume.js';

test('the kernel is normalised, symmetric and truncated at 3σ', () => {
  const k = gaussianKernel(2);
  assert.equal(k.length, 13);
  assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  for (let i = 0; i < 6; i++) assert.equal(k[i], k[12 - i]);
  assert.ok(Math.abs(k[7] / k[6] - Math.exp(-1 / 8)) < 1e-6);
  assert.deepEqual([...gaussianKernel(0)], [1]);
  assert.throws(() => gaussianKernel(-1));
});

test('3D Gaussian of a delta sums to 1 and is the outer product of the 1D kernels', () => {
  const vol = createVolume([15, 17, 19]);
  const c = [7, 8, 9];
  vol.data[(c[0] * 17 + c[1]) * 19 + c[2]] = 1;
  const sig = [1, 1.5, 2] as const;
  const out = gaussianFilter3d(vol, sig);
  assert.ok(Math.abs(out.data.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  const kz = gaussianKernel(sig[0]);
  const ky = gaussianKernel(sig[1]);
  const kx = gaussianKernel(sig[2]);
  const rz = (kz.length - 1) / 2;
  const ry = (ky.length - 1) / 2;
  const rx = (kx.length - 1) / 2;
  for (const [dz, dy, dx] of [[0, 0, 0], [1, -2, 3], [-3, 4, -6], [2, 0, -1]]) {
    const v = out.data[((c[0] + dz) * 17 + c[1] + dy) * 19 + c[2] + dx];
    assert.ok(Math.abs(v - kz[rz + dz] * ky[ry + dy] * kx[rx + dx]) < 1e-7, `${dz},${dy},${dx}`);
  }
  assert.equal(vol.data.reduce((a, b) => a + b, 0), 1, 'input untouched');
});

test('reflected borders keep a constant constant and conserve mass at the edge', () => {
  const s = { data: new Float32Array(8 * 9).fill(3), height: 8, width: 9 };
  const out = gaussianFilter2d(s, 2.5);
  for (const v of out.data) assert.ok(Math.abs(v - 3) < 1e-5);
  const edge = { data: new Float32Array(8 * 9), height: 8, width: 9 };
  edge.data[0] = 1;
  const sm = gaussianFilter2d(edge, 1);
  assert.ok(Math.abs(sm.data.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  // Half-sample reflection: position 0 mirrors onto -1, so pixel 0 gets k(0) + k(1) per axis.
  const k = gaussianKernel(1);
  assert.ok(Math.abs(sm.data[0] - (k[3] + k[4]) ** 2) < 1e-6);
});

test('filtering in place matches filtering into a new array, also with a kernel longer than the line', () => {
  const s = { data: Float32Array.from({ length: 5 * 300 }, (_, i) => Math.sin(i * 0.37) + (i % 7)), height: 5, width: 300 };
  const ref = gaussianFilter2d(s, 3);
  const copy = { ...s, data: s.data.slice() };
  gaussianFilter2d(copy, 3, copy.data);
  assert.deepEqual(copy.data, ref.data);
  const vol = createVolume([4, 3, 2]);
  vol.data.set(Float32Array.from({ length: 24 }, (_, i) => i));
  const a = gaussianFilter3d(vol, 5);
  gaussianFilter3d(vol, 5, vol.data);
  assert.deepEqual(vol.data, a.data);
  assert.ok(Math.abs(a.data.reduce((x, y) => x + y, 0) - 276) < 1e-3);
});
