import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSegmentOptions } from '../../src/pipeline/self-prompting.js';
import { segmentPrompts } from '../../src/pipeline/segment-prompts.js';
import { segmentProposals } from '../../src/pipeline/segment-proposals.js';
import { easyStage, SHAPE } from './stages.js';

test('proposals become instances after the prompts; repeats are skipped; wrong volumes and empty spots are rejected', async () => {
  const { particles, store, tomogram } = easyStage();
  const segment = resolveSegmentOptions();
  const taken = await segmentPrompts({ store, tomogram, prompts: [particles[0]], segment, onProgress: () => {} });
  const v = taken[0].voxels;
  const peaks = [
    { ...particles[0], score: 0.99 }, // the prompt again: skipped
    { ...particles[1], score: 0.9 },
    { ...particles[2], score: 0.8 },
    { x: 2, y: 2, z: 2, score: 0.7 }, // background
  ];
  const input = { store, shape: SHAPE, proposals: peaks, taken, nmsRadius: 3, segment, stopAfterRejects: Infinity, onProgress: () => {} };
  const all = await segmentProposals({ ...input, volumeVoxels: [0.5 * v, 2 * v] });
  assert.deepEqual(all.found.map((i) => [i.id, i.prompted, i.similarity]), [[2, false, 0.9], [3, false, 0.8]]);
  assert.equal(all.rejected.empty + all.rejected.volume, 1, 'the background proposal');
  const none = await segmentProposals({ ...input, volumeVoxels: [4 * v, 8 * v] });
  assert.equal(none.found.length, 0);
  assert.equal(none.rejected.volume, 2, 'particles of another volume are rejected');
  const stopped = await segmentProposals({ ...input, volumeVoxels: [4 * v, 8 * v], stopAfterRejects: 1 });
  assert.equal(stopped.rejected.volume + stopped.rejected.empty, 1, 'segmenting stops after the set number of rejections in a row');
});
