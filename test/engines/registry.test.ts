import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { createEngines, describeEngineNames, parseEngineName } from '../../src/engines/registry.js';
import { writeTinyDino, writeTinySam } from '../helpers/onnx-models.js';

describe('engine registry', () => {
  let modelsDir: string;
  before(async () => {
    modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-registry-'));
    await writeTinySam(path.join(modelsDir, 'tiny-sam'));
    await writeTinyDino(path.join(modelsDir, 'tiny-dino'), { registerTokens: 4 });
  });
  after(async () => {
    await fs.rm(modelsDir, { recursive: true, force: true });
  });

  it('parses engine names', async () => {
    assert.deepEqual(await parseEngineName('classical', modelsDir), { segmenter: 'classical', features: 'classical' });
    assert.deepEqual(await parseEngineName('xfeat', modelsDir), { segmenter: 'classical', features: 'xfeat' });
    assert.deepEqual(await parseEngineName('tiny-sam+xfeat', modelsDir), { segmenter: 'tiny-sam', features: 'xfeat' });
    assert.deepEqual(await parseEngineName('tiny-sam', modelsDir), { segmenter: 'tiny-sam', features: 'classical' });
    assert.deepEqual(await parseEngineName('tiny-dino', modelsDir), { segmenter: 'classical', features: 'tiny-dino' });
    await assert.rejects(parseEngineName('a+b+c', modelsDir), CryosamError);
    assert.match(describeEngineNames(), /classical.*xfeat.*SEG\+FEAT/s);
  });

  it('creates the weight-free classical engines by default', async () => {
    const engines = await createEngines({ modelsDir });
    try {
      const d = engines.describe();
      assert.match(d.segmenter.name, /classical/);
      assert.match(d.features.name, /classical/);
      assert.equal(d.segmenter.weightsSha256, undefined);
    } finally {
      await engines.dispose();
    }
  });

  it('opens model folders on both sides and XFeat by name', async () => {
    const engines = await createEngines({ engine: 'tiny-sam+tiny-dino', modelsDir, threads: 1 });
    try {
      const d = engines.describe();
      assert.equal(d.segmenter.name, 'tiny-sam');
      assert.equal(d.features.name, 'tiny-dino');
      assert.equal(d.features.params.registerTokens, 4);
      const slice = { data: new Float32Array(64 * 64).map((_, i) => i % 64), height: 64, width: 64 };
      const [emb] = await engines.segmenter.embed([slice]);
      const res = await engines.segmenter.decode(emb, { points: [{ x: 32, y: 32, label: 1 }] });
      assert.equal(res.masks[0][32 * 64 + 32], 1);
      const [grid] = await engines.features.extract([slice]);
      assert.equal(grid.channels, 8);
    } finally {
      await engines.dispose();
    }
    const xfeat = await createEngines({ engine: 'tiny-sam+xfeat', modelsDir });
    try {
      assert.equal(xfeat.describe().features.name, 'xfeat');
    } finally {
      await xfeat.dispose();
    }
  });

  it('explains a missing model and an unavailable device', async () => {
    await assert.rejects(createEngines({ engine: 'sam-vit-b+xfeat', modelsDir }), (err: unknown) => {
      assert.ok(err instanceof CryosamError);
      assert.match(err.message, /cryosam models pull/);
      assert.ok(err.message.includes(path.join(modelsDir, 'sam-vit-b')));
      return true;
    });
    await assert.rejects(createEngines({ engine: 'tiny-sam+classical', modelsDir, device: 'cuda' }), /device 'cuda'/);
  });
});
