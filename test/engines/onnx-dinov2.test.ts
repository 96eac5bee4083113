import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openFeaturesFolder } from '../../src/engines/onnx/open-model.js';
import type { VitFeatures } from '../../src/engines/onnx/dinov2.js';
import type { Slice2D } from '../../src/volume/slice.js';
import { TINY_DINO_CHANNELS, TINY_REGISTER_VALUE, writeTinyDino } from '../helpers/onnx-models.js';

/** Rows of constant value: row y has value y (so patch means are predictable). */
function rows(height: number, width: number): Slice2D {
  const data = new Float32Array(height * width);
  for (let y = 0; y < height; y++) data.fill(y, y * width, (y + 1) * width);
  return { data, height, width };
}

describe('ONNX DINOv2 features (tiny model with the Hugging Face contract)', () => {
  let tmp: string;
  let plain: VitFeatures;
  let withRegisters: VitFeatures;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-dino-'));
    plain = (await openFeaturesFolder(await writeTinyDino(path.join(tmp, 'dino')))) as VitFeatures;
    withRegisters = (await openFeaturesFolder(await writeTinyDino(path.join(tmp, 'dino-reg'), { registerTokens: 4 }))) as VitFeatures;
  });
  after(async () => {
    await plain?.dispose();
    await withRegisters?.dispose();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('drops CLS and register tokens and crops the grid to the slice', async () => {
    // 112 × 56 slice → 56 × 28 in the 56-pixel frame → 4 × 2 patches of 14; stride 28 slice pixels.
    const slice = rows(112, 56);
    const [grid] = await withRegisters.extract([slice]);
    assert.deepEqual([grid.height, grid.width, grid.channels, grid.stride], [4, 2, TINY_DINO_CHANNELS, 28]);
    assert.ok(grid.data.every((v) => Math.abs(v) < TINY_REGISTER_VALUE / 2), 'no register token in the grid');
    const [same] = await plain.extract([slice]);
    assert.deepEqual(Array.from(same.data), Array.from(grid.data), 'same patch features with and without registers');
  });

  it('standardises with the volume mean/std, as the CryoSAM reference does', async () => {
    const slice = rows(56, 56);
    plain.setVolumeStats({ mean: 27.5, std: 10, low: 0, high: 55 });
    const [grid] = await plain.extract([slice]);
    plain.setVolumeStats(undefined);
    // Channels 0..2 = patch mean of the pixel planes = mean z of the patch (ImageNet in and out cancel).
    for (let r = 0; r < 4; r++) {
      const expected = (r * 14 + 6.5 - 27.5) / 10;
      for (let ch = 0; ch < 3; ch++) {
        const v = grid.data[(r * 4 + 1) * TINY_DINO_CHANNELS + ch];
        assert.ok(Math.abs(v - expected) < 1e-3, `row ${r} channel ${ch}: ${v} vs ${expected}`);
      }
    }
    assert.equal(plain.identity().params.patchSize, 14);
  });

  it('reads DINO (v1) exports with patch 8', async () => {
    const dino = await openFeaturesFolder(await writeTinyDino(path.join(tmp, 'dino-v1'), { kind: 'dino', inputSize: 64, patchSize: 8 }));
    try {
      const [grid] = await dino.extract([rows(32, 32)]);
      assert.deepEqual([grid.height, grid.width, grid.stride], [8, 8, 4]);
    } finally {
      await dino.dispose();
    }
  });

  it('runs batches and gives each slice its own grid', async () => {
    const grids = await plain.extract([rows(56, 56), rows(28, 56), rows(56, 56)]);
    assert.equal(grids.length, 3);
    assert.deepEqual([grids[1].height, grids[1].width, grids[1].stride], [2, 4, 14]);
    assert.deepEqual(Array.from(grids[0].data), Array.from(grids[2].data));
  });
});
