import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FeatureVolume } from '../../src/pipeline/feature-volume.js';
import { fromBoxMask } from '../../src/pipeline/instance.js';
import { matchFeatures } from '../../src/pipeline/matching.js';
import { levelGrid, nonMaximumSuppression } from '../../src/pipeline/nms.js';
import { buildQueries } from '../../src/pipeline/query.js';
import { normalizeRobust } from '../../src/volume/normalize.js';
import { rng, scatter, synthetic } from './synthetic.js';
import { ToyFeatures } from './toy-engines.js';

test('NMS keeps one peak per neighbourhood, in descending score', () => {
  const g = levelGrid([8, 8, 8], 1);
  const cells = Int32Array.from({ length: 512 }, (_, i) => i);
  // Two bumps centred at (2,2,2) and (6,6,5) (x,y,z).
  const scores = Float32Array.from(cells, (i) => {
    const x = i % 8, y = Math.floor(i / 8) % 8, z = Math.floor(i / 64);
    return Math.max(1 - Math.hypot(x - 2, y - 2, z - 2) / 4, 0.9 - Math.hypot(x - 6, y - 6, z - 5) / 4);
  });
  const peaks = nonMaximumSuppression(g, cells, scores, 3);
  assert.deepEqual([peaks[0].x, peaks[0].y, peaks[0].z], [2, 2, 2]);
  assert.deepEqual([peaks[1].x, peaks[1].y, peaks[1].z], [6, 6, 5]);
  for (let i = 1; i < peaks.length; i++) assert.ok(peaks[i].score <= peaks[i - 1].score);
  for (const p of peaks) for (const q of peaks) if (p !== q) assert.ok(Math.hypot(p.x - q.x, p.y - q.y, p.z - q.z) > 3);
});

test('hierarchical and naive matching find the same particles on an easy volume', async () => {
  const shape = [48, 48, 48] as const;
  const particles = scatter(shape, 16, 8, ['sphere'], 3);
  const s = synthetic(shape, particles, { radius: 4, contrast: 3, seed: 4 });
  normalizeRobust(s.volume, {}, true);
  const { volume: fv, stats } = await FeatureVolume.build(s.volume, new ToyFeatures(), 2, undefined, 'k', () => {});
  assert.deepEqual(stats.encoderPasses, { z: 24, y: 24, x: 24 });
  // Query from the first particle's true mask.
  const p = particles[0];
  const r = 4, side = 2 * r + 1;
  const mask = new Uint8Array(side ** 3).map((_, i) => {
    const x = i % side, y = Math.floor(i / side) % side, z = Math.floor(i / side / side);
    return Math.hypot(x - r, y - r, z - r) <= r ? 1 : 0;
  });
  const inst = fromBoxMask({ z0: p.z - r, z1: p.z + r + 1, y0: p.y - r, y1: p.y + r + 1, x0: p.x - r, x1: p.x + r + 1 }, mask);
  const queries = buildQueries(fv, [inst], 'mean');
  const opts = { pyramid: [8, 4], similarityThreshold: 0.5, nmsRadius: 7 };
  const hier = matchFeatures(fv, queries, { ...opts, mode: 'hierarchical' }, () => {});
  const naive = matchFeatures(fv, queries, { ...opts, mode: 'naive' }, () => {});
  assert.ok(hier.levels[1].scored < naive.levels[0].scored / 10, 'hierarchical scores far fewer positions');
  const found = (peaks: typeof hier.peaks, tol: number) =>
    particles.filter((q) => peaks.slice(0, particles.length).some((k) => Math.hypot(k.x - q.x, k.y - q.y, k.z - q.z) <= tol)).length;
  // Toy features resolve 4-voxel cells: a peak inside each particle (radius 4) is what both must find.
  // Peaks are block centres, half a voxel off the voxel grid: inside = its nearest voxel is, r + √3/2.
  const inside = 4 + Math.sqrt(3) / 2;
  assert.equal(found(naive.peaks, inside), particles.length);
  assert.equal(found(hier.peaks, inside), particles.length);
});
