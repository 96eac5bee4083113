import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClassicalFeatures } from '../../src/engines/classical/features.js';
import { CryosamError } from '../../src/errors.js';
import type { FeatureGrid } from '../../src/engines/types.js';
import { noisySlice, type Shape } from './classical-synthetic.js';

function cellVector(g: FeatureGrid, row: number, col: number): Float32Array {
  const cell = Math.floor(row / g.stride) * g.width + Math.floor(col / g.stride);
  return g.data.slice(cell * g.channels, (cell + 1) * g.channels);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) (ab += a[i] * b[i]), (aa += a[i] * a[i]), (bb += b[i] * b[i]);
  return ab / Math.sqrt(aa * bb);
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

test('same-shape particles are more similar to each other than to other shapes and to background', async () => {
  // Three classes on a grid, in unit noise: small dark disc, small dark ring, large dark disc.
  const classes = ['small disc', 'ring', 'large disc'] as const;
  const shapes: Shape[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 24; i++) {
    const cls = i % 3;
    const row = 40 + Math.floor(i / 6) * 64;
    const col = 40 + (i % 6) * 72;
    const radius = cls === 2 ? 12 : 6;
    shapes.push({ row, col, radius, inner: cls === 1 ? 3 : 0, amplitude: -1 });
    labels.push(cls);
  }
  const [g] = await new ClassicalFeatures().extract([noisySlice(280, 460, shapes, 77)]);
  const vectors = shapes.map((s) => cellVector(g, s.row, s.col));
  // Background cells halfway between particles.
  const background = [[72, 76], [136, 148], [200, 220], [104, 256], [232, 400]].map(([r, c]) => cellVector(g, r, c));
  for (let cls = 0; cls < 3; cls++) {
    const same: number[] = [];
    const other: number[] = [];
    const bg: number[] = [];
    vectors.forEach((v, i) => {
      if (labels[i] !== cls) return;
      vectors.forEach((u, j) => {
        if (j !== i) (labels[j] === cls ? same : other).push(cosine(v, u));
      });
      for (const b of background) bg.push(cosine(v, b));
    });
    assert.ok(mean(same) > mean(other) + 0.04, `${classes[cls]}: same ${mean(same).toFixed(3)} vs other ${mean(other).toFixed(3)}`);
    assert.ok(mean(same) > mean(bg) + 0.5, `${classes[cls]}: same ${mean(same).toFixed(3)} vs background ${mean(bg).toFixed(3)}`);
  }
});

test('grid shape follows the stride; channels are standardised (median 0)', async () => {
  const s = noisySlice(130, 90, [], 3);
  const [g4] = await new ClassicalFeatures().extract([s]);
  assert.deepEqual([g4.height, g4.width, g4.stride, g4.channels], [33, 23, 4, 18]);
  assert.equal(g4.data.length, 33 * 23 * 18);
  const [g3] = await new ClassicalFeatures({ stride: 3, scales: [2, 4] }).extract([s]);
  assert.deepEqual([g3.height, g3.width, g3.stride, g3.channels], [44, 30, 3, 10]);
  for (let ch = 0; ch < g4.channels; ch++) {
    const values = Array.from({ length: g4.height * g4.width }, (_, i) => g4.data[i * g4.channels + ch]).sort((a, b) => a - b);
    assert.ok(Math.abs(values[values.length >> 1]) < 0.05, `channel ${ch} median ${values[values.length >> 1]}`);
    assert.ok(values.every(Number.isFinite));
  }
});

test('options are validated and listed in identity()', () => {
  assert.throws(() => new ClassicalFeatures({ stride: 0 }), CryosamError);
  assert.throws(() => new ClassicalFeatures({ scales: [4, 2] }), CryosamError);
  const id = new ClassicalFeatures({ stride: 8 }).identity();
  assert.equal(id.name, 'classical-features');
  assert.equal(id.params.stride, 8);
  assert.deepEqual(id.params.scales, [1, 2, 4, 8]);
});

test('extraction speed on a 512×512 slice (printed, not asserted)', async () => {
  const fx = new ClassicalFeatures();
  const s = noisySlice(512, 512, [], 1);
  await fx.extract([s]);
  const t0 = performance.now();
  const grids = await fx.extract([s, s, s, s]);
  console.log(`classical features, 512×512: ${((performance.now() - t0) / 4).toFixed(1)} ms/slice`);
  assert.equal(grids.length, 4);
});
