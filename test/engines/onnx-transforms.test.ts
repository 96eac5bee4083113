import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toByteRange, zScore } from '../../src/engines/onnx/intensity.js';
import { intensityStats } from '../../src/volume/stats.js';
import { bestPoint, frameGeometry, fromFrame, lowResToSlice, resample, toFrame } from '../../src/engines/onnx/transforms.js';

describe('encoder frame geometry', () => {
  it('resizes the longest side to the input side with segment-anything rounding', () => {
    const g = frameGeometry(200, 1000, 1024);
    assert.deepEqual([g.resizedHeight, g.resizedWidth], [205, 1024]);
    assert.ok(Math.abs(g.scale - 1.024) < 1e-12);
  });

  it('maps points into the frame and back', () => {
    const g = frameGeometry(300, 170, 1024);
    const f = toFrame(100, 250, g);
    assert.ok(Math.abs(f.y - (250 * 1024) / 300) < 1e-9);
    assert.ok(Math.abs(f.x - (100 * g.resizedWidth) / 170) < 1e-9);
    const back = fromFrame(f.x, f.y, g);
    assert.ok(Math.abs(back.x - 100) < 1e-9 && Math.abs(back.y - 250) < 1e-9);
  });

  it('resamples: constants stay constant, block means survive antialiased shrinking', () => {
    const flat = resample(new Float32Array(40 * 30).fill(3), 40, 30, 64, 17);
    assert.ok(flat.every((v) => Math.abs(v - 3) < 1e-5));
    const stripes = new Float32Array(64 * 64);
    for (let i = 0; i < stripes.length; i++) stripes[i] = i % 2; // alternating columns
    const small = resample(stripes, 64, 64, 16, 16);
    assert.ok(small.every((v) => Math.abs(v - 0.5) < 0.05), 'no aliasing of a pixel-scale pattern');
  });

  it('samples low-res logits at slice pixels and finds the best point inside the mask', () => {
    const g = frameGeometry(100, 50, 1024); // resized 1024 × 512
    const logits = new Float32Array(256 * 256).fill(-1);
    logits[128 * 256 + 64] = 5; // frame (258, 514) → slice (25.2, 50.2)
    logits[10 * 256 + 10] = 9; // stronger but outside the mask below
    const atSlice = lowResToSlice(logits, 256, g);
    assert.equal(atSlice.length, 100 * 50);
    const mask = new Uint8Array(100 * 50);
    for (let y = 45; y < 56; y++) for (let x = 20; x < 30; x++) mask[y * 50 + x] = 1;
    const p = bestPoint(logits, 256, g, mask);
    assert.deepEqual(p, { x: 25, y: 50 });
    assert.deepEqual(bestPoint(logits, 256, g, new Uint8Array(100 * 50)), { x: 4, y: 4 }, 'empty mask: best cell anywhere');
  });
});

describe('intensity mapping', () => {
  it('finds the 0.5/99.5 percentiles and maps them to 0..255 with clipping', () => {
    const data = new Float32Array(10000);
    for (let i = 0; i < data.length; i++) data[i] = i / 100; // uniform 0..100
    data[0] = -1e6; // an outlier must not move the range
    const s = intensityStats(data);
    assert.ok(Math.abs(s.high - 99.5) < 0.2, `high ${s.high}`);
    assert.ok(s.low > -1e6 && s.low < 1, `low ${s.low}`);
    const bytes = toByteRange(Float32Array.of(s.low, (s.low + s.high) / 2, 1e9, -1e9), s.low, s.high);
    assert.deepEqual(Array.from(bytes, Math.round), [0, 128, 255, 0]);
  });

  it('standardises with given mean and std', () => {
    assert.deepEqual(Array.from(zScore(Float32Array.of(1, 3, 5), 3, 2)), [-1, 0, 1]);
    assert.deepEqual(Array.from(zScore(Float32Array.of(4, 4), 4, 0)), [0, 0]);
  });
});
