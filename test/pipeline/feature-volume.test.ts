import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { EngineIdentity, FeatureExtractor, FeatureGrid, Slice2D } from '../../src/engines/types.js';
import { cacheKey, DiskCache } from '../../src/pipeline/cache.js';
import { FeatureVolume } from '../../src/pipeline/feature-volume.js';
import { extractSlice } from '../../src/volume/slice.js';
import type { Volume } from '../../src/volume/volume.js';
import { rng } from './synthetic.js';

const STRIDE = 4;
const CHANNELS = 7;

/** Cells whose channels are fixed pseudo-random functions of the slice's pixels (signed, uneven magnitudes). */
class HashFeatures implements FeatureExtractor {
  calls = 0;
  identity(): EngineIdentity {
    return { name: 'hash-features', params: {} };
  }
  async extract(slices: Slice2D[]): Promise<FeatureGrid[]> {
    this.calls += slices.length;
    return slices.map((s) => {
      const gh = Math.ceil(s.height / STRIDE), gw = Math.ceil(s.width / STRIDE);
      const data = new Float32Array(gh * gw * CHANNELS);
      for (let i = 0; i < gh * gw; i++) {
        const v = s.data[Math.min(s.data.length - 1, i * STRIDE)];
        for (let ch = 0; ch < CHANNELS; ch++) data[i * CHANNELS + ch] = Math.sin(v * (ch + 1) * 7.3 + ch) * (ch + 1);
      }
      return { data, height: gh, width: gw, channels: CHANNELS, stride: STRIDE };
    });
  }
  async dispose(): Promise<void> {}
}

function volume(): Volume {
  const r = rng(3);
  const shape = [8, 16, 20] as const;
  return { data: Float32Array.from({ length: 8 * 16 * 20 }, () => r() * 4 - 2), shape, voxelSize: { x: 10, y: 10, z: 10 } };
}

/** The concatenated feature at the centre of cell (row, col) of encoded z slice `index`. */
function featureAt(fv: FeatureVolume, index: number, row: number, col: number): Float32Array {
  const out = new Float32Array(fv.dim);
  fv.accumulate(index, (row + 0.5) * STRIDE - 0.5, (col + 0.5) * STRIDE - 0.5, 1, out);
  return out;
}

test('feature cells are held as int8 with a scale per cell, within half a code of the unit-length feature', async () => {
  const vol = volume();
  const extractor = new HashFeatures();
  const { volume: fv } = await FeatureVolume.build(vol, extractor, 2, undefined, 'k', () => {}, ['z']);
  const g = fv.axes[0];
  const cells = g.count * g.height * g.width;
  assert.equal(fv.bytes, cells * CHANNELS + cells * 4, 'one byte per channel and a float32 scale per cell');
  let worst = 0;
  for (let k = 0; k < g.count; k++) {
    const index = g.offset + k * g.step;
    const [grid] = await extractor.extract([extractSlice(vol, 'z', index)]);
    for (let cell = 0; cell < g.height * g.width; cell++) {
      const f = grid.data.subarray(cell * CHANNELS, (cell + 1) * CHANNELS);
      const norm = Math.hypot(...f);
      const max = Math.max(...Array.from(f, Math.abs)) / norm;
      const got = featureAt(fv, index, Math.floor(cell / g.width), cell % g.width);
      for (let ch = 0; ch < CHANNELS; ch++) {
        const err = Math.abs(got[ch] - f[ch] / norm);
        assert.ok(err <= max / 254 + 1e-6, `cell ${cell} channel ${ch}: error ${err} above half a code (${max / 254})`);
        worst = Math.max(worst, err);
      }
    }
  }
  assert.ok(worst > 0, 'the codes round (the test would pass on float32 grids otherwise)');
});

test('grids come back from the disk cache unchanged; entries of the float32 format are rebuilt', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-feature-volume-'));
  try {
    const vol = volume();
    const cache = new DiskCache(dir, undefined, { onWarning: () => {} });
    const extractor = new HashFeatures();
    const first = await FeatureVolume.build(vol, extractor, 2, cache, 'k', () => {});
    assert.equal(first.stats.cacheHits, 0);
    const calls = extractor.calls;
    const again = await FeatureVolume.build(vol, extractor, 2, cache, 'k', () => {});
    assert.equal(again.stats.cacheHits, 3);
    assert.equal(extractor.calls, calls, 'nothing re-encoded');
    for (const [z, y, x] of [[0, 0, 0], [3.3, 7.1, 12.8], [7, 15, 19]]) {
      const a = new Float32Array(first.volume.dim), b = new Float32Array(again.volume.dim);
      first.volume.accumulate(z, y, x, 1, a);
      again.volume.accumulate(z, y, x, 1, b);
      assert.deepEqual(b, a);
    }
    // A float32 entry as written before int8 grids: header of 7 ints, then the float data.
    const g = first.volume.axes[0];
    const old = new Uint8Array(7 * 4 + g.count * g.height * g.width * g.channels * 4);
    new Int32Array(old.buffer, 0, 7).set([g.offset, g.step, g.count, g.height, g.width, g.channels, g.stride]);
    await cache.put(cacheKey('k', 'features', 'z', '2'), old);
    const rebuilt = await FeatureVolume.build(vol, extractor, 2, cache, 'k', () => {});
    assert.equal(rebuilt.stats.cacheHits, 2);
    assert.equal(rebuilt.stats.encoderPasses.z, g.count);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

/** Changes the body of the cached z grids (int32 header: magic, offset, step, count, height, width, channels, stride; then float32 scales). */
const badGrids: [string, (header: Int32Array, scales: Float32Array) => void][] = [
  ['another slice step', (h) => { h[2] = 3; }],
  ['another slice offset', (h) => { h[1] += 1; }],
  ['another slice count (and a length to match)', (h) => { h[3] -= 1; }],
  ['a zero stride', (h) => { h[7] = 0; }],
  ['a NaN cell scale', (_, scales) => { scales[5] = NaN; }],
  ['a negative cell scale', (_, scales) => { scales[0] = -1; }],
];

for (const [name, damage] of badGrids) {
  test(`cached grids with ${name} are rebuilt, counted as corrupt and warned about`, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-feature-volume-'));
    try {
      const vol = volume();
      const warnings: string[] = [];
      const cache = new DiskCache(dir, undefined, { onWarning: (m) => warnings.push(m) });
      const extractor = new HashFeatures();
      const first = await FeatureVolume.build(vol, extractor, 2, cache, 'k', () => {});
      const key = cacheKey('k', 'features', 'z', '2');
      const body = (await cache.get(key))!.slice();
      const header = new Int32Array(body.buffer, 0, 8);
      const cells = header[3] * header[4] * header[5];
      damage(header, new Float32Array(body.buffer, 32, cells));
      // A smaller count keeps the byte length consistent, so that the header check is what rejects it.
      const cut = header[3] === first.volume.axes[0].count ? body : body.subarray(0, 32 + (header[3] * header[4] * header[5]) * (4 + header[6]));
      await cache.put(key, cut);
      const rebuilt = await FeatureVolume.build(vol, extractor, 2, cache, 'k', () => {});
      assert.equal(rebuilt.stats.cacheHits, 2, 'y and x from the cache');
      assert.equal(rebuilt.stats.encoderPasses.z, first.volume.axes[0].count, 'z encoded again');
      assert.equal(cache.stats.corrupt, 1);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /corrupt cache entry/);
      const a = new Float32Array(first.volume.dim), b = new Float32Array(rebuilt.volume.dim);
      first.volume.accumulate(3.3, 7.1, 12.8, 1, a);
      rebuilt.volume.accumulate(3.3, 7.1, 12.8, 1, b);
      assert.deepEqual(b, a);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
}
