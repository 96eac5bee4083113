import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { sharedDir } from '../../src/paths.js';
import { Rng } from '../../src/eval/simulate/rng.js';
import { randomRotation, rotateTemplate, rotationMatrix, type Quaternion } from '../../src/eval/simulate/rotate.js';
import { loadTemplate, prepareTemplate, ENCLOSED_MASS, type DensityTemplate } from '../../src/eval/simulate/template.js';
import { addNoiseAtSnr, gaussianNoise, standardize } from '../../src/eval/simulate/noise.js';
import { Placer } from '../../src/eval/simulate/place.js';
import { drawSphericalShell } from '../../src/eval/simulate/shapes.js';
import { createVolume, type Shape3 } from '../../src/volume/volume.js';
import { volumeStats } from '../../src/volume/stats.js';
import { CryosamError } from '../../src/errors.js';
import { applyFourierFilter } from '../../src/volume/fourier.js';
import { measuredRegion } from '../../src/volume/missing-wedge.js';
import { bandPass } from '../../src/eval/simulate/ctf.js';

const mapsDir = path.join(sharedDir(), 'data', 'maps');

function massInSphere(t: DensityTemplate, radius: number): number {
  const [nz, ny, nx] = t.shape;
  let sum = 0;
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        const d2 = (z - (nz - 1) / 2) ** 2 + (y - (ny - 1) / 2) ** 2 + (x - (nx - 1) / 2) ** 2;
        if (d2 <= radius * radius) sum += t.data[i];
      }
  return sum;
}

test('rng: same seed same stream, different seeds differ, normal deviates are standard', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 8 }, () => a.nextUint32());
  assert.deepEqual(sa, Array.from({ length: 8 }, () => b.nextUint32()));
  assert.notDeepEqual(sa, Array.from({ length: 8 }, () => c.nextUint32()));
  const r = new Rng(1);
  const n = 200_000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const v = r.normal();
    s += v;
    s2 += v * v;
  }
  assert.ok(Math.abs(s / n) < 0.01);
  assert.ok(Math.abs(s2 / n - 1) < 0.01);
});

test('random rotations are proper rotations, uniformly spread', () => {
  const rng = new Rng(9);
  let meanZ = 0;
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const m = rotationMatrix(randomRotation(rng));
    // Orthonormal with determinant +1.
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++) {
        const dot = m[a * 3] * m[b * 3] + m[a * 3 + 1] * m[b * 3 + 1] + m[a * 3 + 2] * m[b * 3 + 2];
        assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-9);
      }
    const det =
      m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
    assert.ok(Math.abs(det - 1) < 1e-9);
    meanZ += m[8]; // z component of the rotated z axis: uniform on [-1, 1] for uniform rotations
  }
  assert.ok(Math.abs(meanZ / n) < 0.05);
});

test('template: contour encloses the stated share of positive density; contrast unit is 1', async () => {
  const t = await loadTemplate(mapsDir, '4v7r');
  let inside = 0;
  let insideMass = 0;
  let positiveMass = 0;
  for (const v of t.data) {
    if (v > 0) positiveMass += v;
    if (v >= t.threshold) {
      inside++;
      insideMass += v;
    }
  }
  assert.equal(inside, t.insideVoxels);
  assert.ok(Math.abs(insideMass / inside - 1) < 1e-4, 'mean density inside the iso-surface is 1');
  assert.ok(insideMass / positiveMass >= ENCLOSED_MASS - 1e-4 && insideMass / positiveMass < ENCLOSED_MASS + 0.01);
  // A yeast 80S ribosome is ~28 nm across: 14–18 voxels of 10 Å from its centre to its farthest point.
  assert.ok(t.labelRadius > 13 && t.labelRadius < 19, `radius ${t.labelRadius}`);
  assert.ok(t.supportRadius >= t.labelRadius);
  await assert.rejects(loadTemplate(mapsDir, 'no_such_map'), CryosamError);
  assert.throws(() => prepareTemplate('empty', createVolume([4, 4, 4])), CryosamError);
});

test('rotation: identity reproduces the map, a quarter turn permutes it, any rotation keeps the mass', async () => {
  const t = await loadTemplate(mapsDir, '1bxn');
  const [n] = t.shape;
  const mc = (n - 1) / 2;
  // With the centre on the map grid's offset, box voxels fall exactly on map voxels.
  const centre = { x: 40 + mc - Math.floor(mc), y: 40 + mc - Math.floor(mc), z: 40 + mc - Math.floor(mc) };
  const mapAt = (x: number, y: number, z: number) => t.data[(z * n + y) * n + x];
  const check = (q: Quaternion, map: (px: number, py: number, pz: number) => [number, number, number]) => {
    const box = rotateTemplate(t, q, centre);
    const [bz, by, bx] = box.shape;
    let compared = 0;
    for (let k = 0; k < bz; k++)
      for (let j = 0; j < by; j++)
        for (let l = 0; l < bx; l++) {
          const v = box.data[(k * by + j) * bx + l];
          if (v === 0) continue;
          const [x, y, z] = map(box.origin[2] + l - centre.x, box.origin[1] + j - centre.y, box.origin[0] + k - centre.z);
          assert.ok(Math.abs(v - mapAt(x + mc, y + mc, z + mc)) < 1e-5);
          compared++;
        }
    assert.ok(compared > t.insideVoxels);
  };
  check([1, 0, 0, 0], (x, y, z) => [x, y, z]);
  // 90° about z sends map (x, y) to (−y, x): a box voxel at p shows the map at (p.y, −p.x).
  check([Math.SQRT1_2, 0, 0, Math.SQRT1_2], (x, y, z) => [y, -x, z]);

  const reference = massInSphere(t, t.supportRadius);
  const rng = new Rng(2);
  for (let i = 0; i < 5; i++) {
    const box = rotateTemplate(t, randomRotation(rng), { x: 50.3, y: 49.7, z: 50.1 });
    let mass = 0;
    for (const v of box.data) mass += v;
    assert.ok(Math.abs(mass / reference - 1) < 0.02, `mass ratio ${mass / reference}`);
  }
  // Half the voxel size: the map covers 8× the voxels at the same density.
  const box = rotateTemplate(t, randomRotation(rng), { x: 60, y: 60, z: 60 }, 2);
  let mass = 0;
  for (const v of box.data) mass += v;
  assert.ok(Math.abs(mass / (8 * reference) - 1) < 0.02);
});

test('noise: measured noise variance is signal variance / SNR, for white and for coloured noise', () => {
  const shape: Shape3 = [40, 40, 40];
  const vol = createVolume(shape);
  drawSphericalShell(vol.data, shape, { x: 20, y: 20, z: 20 }, 10, 2, 1);
  const signal = vol.data.slice();
  const signalVar = volumeStats(signal).rms ** 2;
  const white = gaussianNoise(signal.length, new Rng(4));
  const stats = volumeStats(white);
  assert.ok(Math.abs(stats.mean) < 0.01 && Math.abs(stats.rms - 1) < 0.01);
  // Coloured: a missing wedge and a low-pass change its variance, not the SNR.
  const coloured = { ...vol, data: white.slice() };
  applyFourierFilter(coloured, (kz, ky, kx) => measuredRegion({ axis: 'y', minDeg: -60, maxDeg: 60 })(kz, ky, kx) * Math.exp(-(kz * kz + ky * ky + kx * kx) * 9));
  for (const [snr, noise] of [[0.1, white], [1, coloured.data]] as const) {
    const noisy = signal.slice();
    const sigma = addNoiseAtSnr(noisy, noise, snr);
    const noiseVar = volumeStats(noisy.map((v, i) => v - signal[i])).rms ** 2;
    assert.ok(Math.abs(sigma * sigma - signalVar / snr) < 1e-9 * signalVar);
    assert.ok(Math.abs(noiseVar / (signalVar / snr) - 1) < 1e-3, `SNR ${snr}: ${signalVar / noiseVar}`);
    standardize(noisy);
    const st = volumeStats(noisy);
    assert.ok(Math.abs(st.mean) < 1e-5 && Math.abs(st.rms - 1) < 1e-4);
  }
});

test('placement: balls never overlap, stay inside, and the placer gives up when full', () => {
  const shape: Shape3 = [30, 60, 60];
  const placer = new Placer(shape, new Rng(8), 2);
  const balls = [];
  for (let i = 0; i < 200; i++) {
    const b = placer.place(6, 200);
    if (b) balls.push(b);
  }
  assert.ok(balls.length > 5 && balls.length < 200, `${balls.length} placed`);
  for (const [i, a] of balls.entries()) {
    assert.ok(a.z >= 6 && a.z <= 29 - 6 && a.x >= 6 && a.x <= 59 - 6);
    for (const b of balls.slice(i + 1)) assert.ok(Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z) >= 14);
  }
  assert.equal(new Placer(shape, new Rng(1), 0).place(20, 10), undefined, 'a ball wider than the volume');
});

test('shells: a gold ball and a vesicle have the expected volume', () => {
  const shape: Shape3 = [64, 64, 64];
  const vol = createVolume(shape);
  drawSphericalShell(vol.data, shape, { x: 31.3, y: 32, z: 30.6 }, 0, 5, 1);
  let sum = 0;
  for (const v of vol.data) sum += v;
  assert.ok(Math.abs(sum / ((4 / 3) * Math.PI * 125) - 1) < 0.03);
  vol.data.fill(0);
  drawSphericalShell(vol.data, shape, { x: 32, y: 32, z: 32 }, 20, 2, 1);
  sum = 0;
  for (const v of vol.data) sum += v;
  assert.ok(Math.abs(sum / ((4 / 3) * Math.PI * (22 ** 3 - 18 ** 3)) - 1) < 0.03);
  assert.equal(vol.data[(32 * 64 + 32) * 64 + 32], 0, 'hollow');
});

test('band-pass attenuates the lowest and highest frequencies; the CTF flips sign at its first zero', () => {
  const h = bandPass({ highPassA: 400, lowPassA: 30, defocusUm: null }, 10);
  assert.equal(h(0, 0, 0), 0);
  const mid = h(0, 0, 1 / 10); // 100 Å
  assert.ok(mid > 0.8 && mid > h(0, 0, 1 / 80) && mid > h(0, 0, 0.5));
  // At Nyquist (20 Å) only the envelope exp(−(30/20)²) is left.
  assert.ok(Math.abs(h(0, 0, 0.5) - Math.exp(-((30 / 20) ** 2))) < 1e-9);
  const ctf = bandPass({ highPassA: 400, lowPassA: 1, defocusUm: 3 }, 10);
  // First zero of sin χ at k² = 1/(λΔf): 1/24.3 Å at 3 µm, i.e. 0.41 cycles per 10 Å voxel.
  assert.ok(ctf(0, 0, 0.3) > 0);
  assert.ok(ctf(0, 0, 0.48) < 0);
});
