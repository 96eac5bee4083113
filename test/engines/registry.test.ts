import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
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

  it('loads the ONNX runtime only when an ONNX engine is asked for', async () => {
    // In a fresh process: this one has loaded it for the other tests. The loader flags (tsx) go along.
    const loaders = process.execArgv.flatMap((a, i, all) => (a === '--import' ? [a, all[i + 1]] : a.startsWith('--import=') ? [a] : []));
    const script = `
      import { createRequire } from 'node:module';
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('onnxruntime-node'));
      const { createEngines } = await import(${JSON.stringify(import.meta.resolve('../../src/engines/registry.js'))});
      const engines = await createEngines({ modelsDir: ${JSON.stringify(modelsDir)} });
      const classical = loaded();
      await engines.dispose();
      await import(${JSON.stringify(import.meta.resolve('../../src/engines/onnx/open-model.js'))});
      process.stdout.write(JSON.stringify({ classical, onnx: loaded() }));`;
    const { stdout } = await promisify(execFile)(process.execPath, [...loaders, '--input-type=module', '-e', script]);
    assert.deepEqual(JSON.parse(stdout), { classical: false, onnx: true });
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
      assert.match(err.message, /'sam-vit-b' is neither a built-in engine/);
      assert.ok(err.message.includes(modelsDir), 'names the models folder');
      assert.match(err.message, /installed: .*tiny-sam/, 'lists the installed models');
      return true;
    });
    await assert.rejects(createEngines({ engine: 'tiny-sam+classical', modelsDir, device: 'cuda' }), /device 'cuda'/);
  });
});
