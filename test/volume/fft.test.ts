import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FftPlan, fastFftSize } from '../../src/volume/fft.js';
import { applyFourierFilter, fftFrequency, irfft3d, rfft3d } from '../../src/volume/fourier.js';
import { Rng } from '../../src/eval/simulate/rng.js';
import { createVolume, type Shape3 } from '../../src/volume/volume.js';

function naiveDft(re: Float64Array, im: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const a = (-2 * Math.PI * j * k) / n;
      outRe[k] += re[j] * Math.cos(a) - im[j] * Math.sin(a);
      outIm[k] += re[j] * Math.sin(a) + im[j] * Math.cos(a);
    }
  }
  return { re: outRe, im: outIm };
}

function randomArray(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

test('1D FFT matches a direct DFT for mixed-radix and prime lengths, and inverts', () => {
  const rng = new Rng(7);
  for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 16, 20, 25, 30, 45, 49, 64, 96]) {
    const re = randomArray(n, rng);
    const im = randomArray(n, rng);
    const expected = naiveDft(re, im);
    const fr = re.slice();
    const fi = im.slice();
    const plan = new FftPlan(n);
    plan.transform(fr, fi);
    for (let k = 0; k < n; k++) {
      assert.ok(Math.abs(fr[k] - expected.re[k]) < 1e-9 && Math.abs(fi[k] - expected.im[k]) < 1e-9, `n=${n} k=${k}`);
    }
    plan.transform(fr, fi, 1, true);
    for (let j = 0; j < n; j++) assert.ok(Math.abs(fr[j] - re[j]) < 1e-12 && Math.abs(fi[j] - im[j]) < 1e-12);
  }
});

test('batched FFT of interleaved lines equals the FFT of each line', () => {
  const rng = new Rng(3);
  const n = 24;
  const width = 5;
  const re = randomArray(n * width, rng);
  const im = randomArray(n * width, rng);
  const br = re.slice();
  const bi = im.slice();
  new FftPlan(n).transform(br, bi, width);
  for (let b = 0; b < width; b++) {
    const lr = Float64Array.from({ length: n }, (_, i) => re[i * width + b]);
    const li = Float64Array.from({ length: n }, (_, i) => im[i * width + b]);
    new FftPlan(n).transform(lr, li);
    for (let k = 0; k < n; k++) assert.ok(Math.abs(lr[k] - br[k * width + b]) < 1e-10);
  }
});

test('known transforms: a delta is flat, a cosine is two spikes', () => {
  const n = 16;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  re[0] = 1;
  new FftPlan(n).transform(re, im);
  for (let k = 0; k < n; k++) assert.ok(Math.abs(re[k] - 1) < 1e-12 && Math.abs(im[k]) < 1e-12);

  const shape: Shape3 = [6, 10, 12];
  const vol = createVolume(shape);
  // cos(2π(2x/12 + 3y/10)) has components (ky, kx) = ±(3, 2), each n/2.
  for (let z = 0; z < 6; z++)
    for (let y = 0; y < 10; y++)
      for (let x = 0; x < 12; x++) vol.data[(z * 10 + y) * 12 + x] = Math.cos(2 * Math.PI * ((2 * x) / 12 + (3 * y) / 10));
  const spec = rfft3d(vol.data, shape);
  const total = 6 * 10 * 12;
  for (let z = 0; z < 6; z++)
    for (let y = 0; y < 10; y++)
      for (let kx = 0; kx < spec.nxh; kx++) {
        const i = (z * 10 + y) * spec.nxh + kx;
        const expected = z === 0 && kx === 2 && y === 3 ? total / 2 : 0;
        assert.ok(Math.abs(spec.re[i] - expected) < 1e-3 && Math.abs(spec.im[i]) < 1e-3, `(${z},${y},${kx})`);
      }
});

test('3D real FFT round trip, odd and even sizes', () => {
  const rng = new Rng(11);
  for (const shape of [[5, 6, 7], [8, 9, 10], [3, 4, 1]] as Shape3[]) {
    const vol = createVolume(shape);
    for (let i = 0; i < vol.data.length; i++) vol.data[i] = rng.normal();
    const out = new Float32Array(vol.data.length);
    irfft3d(rfft3d(vol.data, shape), out);
    for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i] - vol.data[i]) < 1e-5, `${shape} voxel ${i}`);
    // The identity filter through padding (7 → 8, 9 stays, 1 stays) returns the input.
    const copy = { ...vol, data: vol.data.slice() };
    applyFourierFilter(copy, () => 1);
    for (let i = 0; i < out.length; i++) assert.ok(Math.abs(copy.data[i] - vol.data[i]) < 1e-5);
  }
  assert.equal(fastFftSize(7), 8);
  assert.equal(fastFftSize(161), 162);
  assert.equal(fastFftSize(384), 384);
});

