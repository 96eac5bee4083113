import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CryoSam } from '../../src/pipeline/cryosam.js';
import { writeTinyDino, writeTinySam } from '../helpers/onnx-models.js';
import { synthetic } from './synthetic.js';

// Plumbing, not quality: the tiny models have the real models' contracts but fixed toy weights.
let modelsDir: string;
before(async () => {
  modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-onnx-pipeline-'));
  await writeTinySam(path.join(modelsDir, 'tiny-sam'), { multimask: true });
  await writeTinyDino(path.join(modelsDir, 'tiny-dino'));
});
after(async () => {
  await fs.rm(modelsDir, { recursive: true, force: true });
});

test('the pipeline runs end to end with ONNX segmenter and feature models from a model folder', async () => {
  const shape = [16, 24, 24] as const;
  const prompt = { kind: 'sphere' as const, x: 12, y: 12, z: 8 };
  const { volume } = synthetic(shape, [prompt], { radius: 4, contrast: 3, seed: 1 });
  const sam = await CryoSam.create(volume, { engine: { engine: 'tiny-sam+tiny-dino', modelsDir, threads: 1 }, cacheDir: path.join(modelsDir, 'cache') });
  try {
    const ids = sam.engineIdentities() as unknown as {
      segmenter: { name: string; weightsSha256?: string };
      features: { name: string; params: { intensity: unknown } };
    };
    assert.ok(ids.segmenter.weightsSha256, 'ONNX engines identify their weights');
    // CryoSam hands the tomogram's intensity statistics to the engines (one scaling for all slices).
    assert.equal(typeof ids.features.params.intensity, 'object', 'volume statistics, not per-slice ones');
    const result = await sam.pick([prompt], { topK: 4, featureSliceStep: 4, pyramid: [8, 4] });
    assert.ok(result.report.segmenterEmbeddings > 0);
    assert.deepEqual(result.report.encoderPasses, { z: 4, y: 6, x: 6 });
    assert.ok(result.picks.length >= 1 && result.picks[0].instanceId === 1);
    assert.ok(result.instances[0].prompted);
    assert.ok(result.report.proposals <= 4);
  } finally {
    await sam.dispose();
  }
});
