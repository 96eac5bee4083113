import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openXFeat } from '../../src/engines/onnx/open-model.js';
import type { XFeatFeatures } from '../../src/engines/onnx/xfeat.js';
import { createSession } from '../../src/engines/onnx/session.js';
import { readMrc } from '../../src/io/mrc/index.js';
import { sharedDir } from '../../src/paths.js';
import { CryosamError } from '../../src/errors.js';
import type { Slice2D } from '../../src/volume/slice.js';

const XFEAT = path.join(sharedDir(), 'models', 'xfeat', 'xfeat.onnx');
const TOMO = path.join(sharedDir(), 'data', 'deepfinder_toy100', 'tomo1_data.mrc');

describe('XFeat features on a real tomogram slice', () => {
  let emptyModels: string;
  let xfeat: XFeatFeatures;
  let slice: Slice2D;

  before(async () => {
    emptyModels = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-xfeat-'));
    // No xfeat folder under this models directory: the shared development copy is used.
    xfeat = await openXFeat(emptyModels, { threads: 2 });
    const volume = await readMrc(TOMO);
    const [, ny, nx] = volume.shape;
    slice = { data: volume.data.slice(50 * ny * nx, 51 * ny * nx), height: ny, width: nx };
  });
  after(async () => {
    await xfeat?.dispose();
    await fs.rm(emptyModels, { recursive: true, force: true });
  });

  it('gives an 80×80 grid of unit-norm 64-d descriptors that differ between regions', async () => {
    const [grid] = await xfeat.extract([slice]);
    assert.deepEqual([grid.height, grid.width, grid.channels], [80, 80, 64]);
    assert.ok(Math.abs(grid.stride - 100 / 80) < 1e-9);
    const norm = (i: number) => Math.hypot(...grid.data.subarray(i * 64, (i + 1) * 64));
    for (const i of [0, 100, 3240, 6399]) assert.ok(Math.abs(norm(i) - 1) < 1e-4, `cell ${i} norm ${norm(i)}`);
    const cos = (a: number, b: number) => {
      let s = 0;
      for (let k = 0; k < 64; k++) s += grid.data[a * 64 + k] * grid.data[b * 64 + k];
      return s;
    };
    let distinct = 0;
    for (let a = 0; a < 6400; a += 397) for (let b = a + 211; b < 6400; b += 613) if (cos(a, b) < 0.9) distinct++;
    assert.ok(distinct > 10, `descriptors differ between regions (${distinct} pairs below 0.9)`);
    assert.equal(xfeat.identity().name, 'xfeat');
    assert.match(xfeat.identity().weightsSha256 ?? '', /^[0-9a-f]{64}$/);
  });

  it('crops the grid to a non-square slice', async () => {
    const crop: Slice2D = { data: slice.data.slice(0, 40 * 100), height: 40, width: 100 };
    const [grid] = await xfeat.extract([crop]);
    // 40 × 100 → 256 × 640 in the frame → 32 × 80 cells.
    assert.deepEqual([grid.height, grid.width], [32, 80]);
  });

  it('turns an unavailable execution provider into a CryosamError', async () => {
    for (const device of ['cuda', 'webgpu'] as const) {
      await assert.rejects(createSession(XFEAT, { device }), (err: unknown) => {
        assert.ok(err instanceof CryosamError);
        assert.match(err.message, new RegExp(`device '${device}'`));
        assert.match(err.message, /--device cpu/);
        return true;
      });
    }
    await assert.rejects(createSession(XFEAT, { threads: 0 }), CryosamError);
  });
});
