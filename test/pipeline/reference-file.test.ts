import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadReference, saveReference } from '../../src/pipeline/reference-file.js';
import { REFERENCE_VERSION, type Reference } from '../../src/pipeline/reference.js';

test('a reference folder keeps every field, its sources and its average; a version 1 file (one source) still reads', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-ref-'));
  try {
    const data = Float32Array.from({ length: 27 }, (_, i) => i / 7);
    const reference: Reference = {
      version: REFERENCE_VERSION,
      engines: { segmenter: { name: 'seg', params: { t: [0.5] } }, features: { name: 'feat', params: {} } },
      voxelSizeA: 10, featureSliceStep: 4,
      query: { mode: 'per-prompt', vectors: [Float32Array.from([0.6, 0.8]), Float32Array.from([1, 0])] },
      particle: { meanVoxels: 500, equivalentRadius: 4.92, polarity: -1 },
      sources: [{ tomogram: '/data/TS_01.mrc', tomogramSha256: 'a', prompts: [{ x: 1, y: 2, z: 3 }] }, { tomogramSha256: 'b', prompts: [{ x: 4, y: 5, z: 6 }] }],
      prompted: [],
      average: { data, size: 3, stride: 2, voxelSizeA: 20, missingWedge: { axis: 'y', beam: 'z', minDeg: -60, maxDeg: 60, source: 'estimated' } },
    };
    await saveReference(path.join(dir, 'r'), reference);
    const loaded = await loadReference(path.join(dir, 'r'));
    assert.deepEqual({ ...loaded, average: undefined }, { ...reference, average: undefined });
    assert.deepEqual(Array.from(loaded.average!.data), Array.from(data));
    assert.deepEqual({ ...loaded.average, data: null }, { ...reference.average, data: null });

    const json = JSON.parse(await fs.readFile(path.join(dir, 'r', 'reference.json'), 'utf8'));
    const { sources, ...rest } = json;
    await fs.writeFile(path.join(dir, 'r', 'reference.json'), JSON.stringify({ ...rest, version: 1, source: sources[0] }));
    const old = await loadReference(path.join(dir, 'r'));
    assert.equal(old.version, REFERENCE_VERSION);
    assert.deepEqual(old.sources, [sources[0]]);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
