import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClassicalSegmenter } from '../../src/engines/classical/segmenter.js';
import { ClassicalEmbedding } from '../../src/engines/classical/embedding.js';
import { CryosamError } from '../../src/errors.js';
import { iou, noisySlice, shapeMask, type Shape } from './classical-synthetic.js';

const H = 128;
const W = 140;
const seg = new ClassicalSegmenter();

function area(m: Uint8Array): number {
  return m.reduce((a, b) => a + b, 0);
}

/** Fraction of `of` covered by `m`. */
function coverage(m: Uint8Array, of: Uint8Array): number {
  let inter = 0;
  for (let i = 0; i < m.length; i++) inter += m[i] & of[i];
  return inter / area(of);
}

test('a dark disc in noise (SNR 0.5–1) is segmented from one interior point', async () => {
  for (const [amplitude, seed] of [[-1, 11], [-0.7, 12], [-1, 13]]) {
    const disc: Shape = { row: 64, col: 70, radius: 11, amplitude };
    const [e] = await seg.embed([noisySlice(H, W, [disc], seed)]);
    const r = await seg.decode(e, { points: [{ x: 72, y: 62, label: 1 }] });
    assert.equal(r.masks.length, 1);
    assert.equal(r.masks[0].length, H * W);
    const score = iou(r.masks[0], shapeMask(H, W, disc));
    assert.ok(score >= 0.8, `IoU ${score.toFixed(3)} at amplitude ${amplitude}`);
    assert.ok(r.scores[0] > 0.8, `predicted IoU ${r.scores[0]}`);
    // The best point is inside the mask and near the disc's centre.
    const p = r.bestPoints[0];
    assert.equal(r.masks[0][p.y * W + p.x], 1);
    assert.ok(Math.hypot(p.x - 70, p.y - 64) < 4, `best point ${p.x},${p.y}`);
  }
});

test('bright particles are found too (auto polarity) and polarity can be fixed', async () => {
  const disc: Shape = { row: 50, col: 60, radius: 10, amplitude: 1 };
  const [e] = await seg.embed([noisySlice(H, W, [disc], 5)]);
  const r = await seg.decode(e, { points: [{ x: 60, y: 50, label: 1 }] });
  assert.ok(iou(r.masks[0], shapeMask(H, W, disc)) >= 0.8);
  const dark = await new ClassicalSegmenter({ polarity: 'dark' }).decode(e, { points: [{ x: 60, y: 50, label: 1 }] });
  assert.ok(dark.scores[0] < 0.5 * r.scores[0], `dark-only score ${dark.scores[0]} vs ${r.scores[0]}`);
});

test('a prompt on empty noise scores lower than a prompt on a disc', async () => {
  const disc: Shape = { row: 40, col: 40, radius: 9, amplitude: -0.7 };
  for (const seed of [21, 22, 23, 24]) {
    const [e] = await seg.embed([noisySlice(H, W, [disc], seed)]);
    const onDisc = await seg.decode(e, { points: [{ x: 40, y: 40, label: 1 }], multimask: true });
    const onNoise = await seg.decode(e, { points: [{ x: 105, y: 95, label: 1 }], multimask: true });
    assert.ok(onNoise.scores[0] < 0.5, `noise score ${onNoise.scores[0]}`);
    assert.ok(onDisc.scores[0] > onNoise.scores[0] + 0.3, `disc ${onDisc.scores[0]} vs noise ${onNoise.scores[0]}`);
  }
});

test('multimask returns candidates ordered by score with matching logits and best points', async () => {
  const disc: Shape = { row: 64, col: 70, radius: 10, amplitude: -0.8 };
  const [e] = await seg.embed([noisySlice(H, W, [disc], 3)]);
  const r = await seg.decode(e, { points: [{ x: 70, y: 64, label: 1 }], multimask: true });
  assert.equal(r.masks.length, 3);
  assert.equal(r.lowRes.length, 3);
  for (let k = 1; k < 3; k++) assert.ok(r.scores[k - 1] >= r.scores[k]);
  for (let k = 0; k < 3; k++) {
    const { data, height, width } = r.lowRes[k];
    assert.deepEqual([height, width], [H / 2, W / 2]);
    // Logits are > 0 exactly where the mask is, sampled at each cell's centre pixel.
    for (let lr = 0; lr < height; lr++) {
      for (let lc = 0; lc < width; lc++) {
        assert.equal(data[lr * width + lc] > 0, r.masks[k][(2 * lr + 1) * W + 2 * lc + 1] === 1);
      }
    }
  }
  // The three thresholds nest: looser candidates contain stricter ones (up to contour smoothing).
  const areas = r.masks.map(area).sort((a, b) => a - b);
  assert.ok(areas[0] < areas[2], `areas ${areas}`);
});

test('the previous slice mask keeps the mask on the right one of two touching discs', async () => {
  const a: Shape = { row: 64, col: 50, radius: 10, amplitude: -1 };
  const b: Shape = { row: 64, col: 71, radius: 10, amplitude: -1 };
  // Neighbouring slice: only A (B starts at the current slice).
  const [prev, cur] = await seg.embed([noisySlice(H, W, [a], 31), noisySlice(H, W, [a, b], 32)]);
  const first = await seg.decode(prev, { points: [{ x: 50, y: 64, label: 1 }] });
  const truthA = shapeMask(H, W, a);
  const truthB = shapeMask(H, W, b);
  assert.ok(iou(first.masks[0], truthA) > 0.8);
  const next = await seg.decode(cur, {
    points: [{ ...first.bestPoints[0], label: 1 }],
    maskInput: first.lowRes[0],
  });
  assert.ok(iou(next.masks[0], truthA) >= 0.75, `IoU with A ${iou(next.masks[0], truthA)}`);
  assert.ok(coverage(next.masks[0], truthB) < 0.1, `covers ${coverage(next.masks[0], truthB)} of B`);
  // The mask prompt alone (no point) also works.
  const maskOnly = await seg.decode(cur, { points: [], maskInput: first.lowRes[0] });
  assert.ok(iou(maskOnly.masks[0], truthA) >= 0.75);
});

test('a negative point cuts away an overlapping second disc', async () => {
  // Overlapping so much (neck 12 px wide) that only the negative point can separate them.
  const a: Shape = { row: 64, col: 50, radius: 10, amplitude: -1 };
  const b: Shape = { row: 64, col: 66, radius: 10, amplitude: -1 };
  const [e] = await seg.embed([noisySlice(H, W, [a, b], 41)]);
  const truthA = shapeMask(H, W, a);
  const truthB = shapeMask(H, W, b);
  const both = await seg.decode(e, { points: [{ x: 50, y: 64, label: 1 }] });
  assert.ok(coverage(both.masks[0], truthB) > 0.5, 'without the negative point the discs merge');
  const r = await seg.decode(e, { points: [{ x: 50, y: 64, label: 1 }, { x: 68, y: 64, label: 0 }] });
  const ownB = truthB.map((v, i) => v & (1 - truthA[i]));
  assert.ok(coverage(r.masks[0], ownB) < 0.1, `covers ${coverage(r.masks[0], ownB)} of B's own part`);
  // A minus the lens it shares with B.
  const ownA = truthA.map((v, i) => v & (1 - truthB[i]));
  assert.ok(coverage(r.masks[0], ownA) >= 0.8, `covers ${coverage(r.masks[0], ownA)} of A's own part`);
});

test('embeddings survive serialisation; bad requests throw CryosamError', async () => {
  const disc: Shape = { row: 30, col: 30, radius: 8, amplitude: -1 };
  const [e] = await seg.embed([noisySlice(60, 70, [disc], 7)]);
  const back = seg.deserializeEmbedding(seg.serializeEmbedding(e));
  assert.deepEqual([back.height, back.width], [60, 70]);
  // Exactly, not to float32: a cached embedding must decode as the computed one does.
  assert.equal((back as ClassicalEmbedding).scale, (e as ClassicalEmbedding).scale);
  const req = { points: [{ x: 30, y: 30, label: 1 as const }] };
  assert.deepEqual((await seg.decode(back, req)).masks[0], (await seg.decode(e, req)).masks[0]);
  assert.throws(() => seg.deserializeEmbedding(new Uint8Array(20)), CryosamError);
  assert.throws(() => seg.deserializeEmbedding(seg.serializeEmbedding(e).subarray(0, 100)), CryosamError);
  await assert.rejects(seg.decode(e, { points: [] }), CryosamError);
  await assert.rejects(seg.decode({ height: 60, width: 70 }, req), CryosamError);
  assert.throws(() => new ClassicalSegmenter({ thresholds: [1.5] }), CryosamError);
  const id = seg.identity();
  assert.equal(id.name, 'classical-segmenter');
  assert.equal(id.weightsSha256, undefined);
  for (const k of ['sigma', 'backgroundBlock', 'polarity', 'thresholds', 'windowRadius', 'maxWindowRadius', 'priorMargin']) {
    assert.ok(k in id.params, k);
  }
});

test('decoding cost does not grow with the slice size (timing printed)', async () => {
  const disc: Shape = { row: 200, col: 300, radius: 10, amplitude: -0.8 };
  const [e] = await seg.embed([noisySlice(512, 512, [disc], 9)]);
  const req = { points: [{ x: 300, y: 200, label: 1 as const }], multimask: true };
  await seg.decode(e, req);
  const n = 50;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await seg.decode(e, req);
  const ms = (performance.now() - t0) / n;
  const s = noisySlice(512, 512, [disc], 9);
  const t1 = performance.now();
  await seg.embed([s, s, s, s]);
  console.log(`classical segmenter, 512×512: embed ${((performance.now() - t1) / 4).toFixed(1)} ms/slice, decode (3 candidates) ${ms.toFixed(2)} ms`);
  assert.ok(ms > 0);
});
