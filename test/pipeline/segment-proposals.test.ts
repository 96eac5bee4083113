import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSegmentOptions } from '../../src/pipeline/self-prompting.js';
import { segmentPrompts } from '../../src/pipeline/segment-prompts.js';
import { DEFAULTS } from '../../src/pipeline/defaults.js';
import { autoProposalLimit, segmentProposals } from '../../src/pipeline/segment-proposals.js';
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
  assert.equal(all.segmented, 3, 'the repeat of the prompt is not segmented');
  const none = await segmentProposals({ ...input, volumeVoxels: [4 * v, 8 * v] });
  assert.equal(none.found.length, 0);
  assert.equal(none.rejected.volume, 2, 'particles of another volume are rejected');
  const stopped = await segmentProposals({ ...input, volumeVoxels: [4 * v, 8 * v], stopAfterRejects: 1 });
  assert.equal(stopped.rejected.volume + stopped.rejected.empty, 1, 'segmenting stops after the set number of rejections in a row');
  assert.equal(stopped.segmented, 1);
});

test("the automatic count's proposal limit is the paper's K in a small tomogram and follows the volume in a large one", () => {
  const ribosome = 4900; // voxels at 10 Å
  const K = DEFAULTS.pick.autoMinProposals;
  assert.equal(autoProposalLimit(128 * 192 * 192, ribosome), K, 'a medium-sized tomogram keeps the paper\'s 512');
  const large = autoProposalLimit(200 * 1024 * 1024, ribosome);
  assert.ok(large >= 900 * 4, `a 200×1024² tomogram may segment several times its 900 ribosomes: ${large}`);
  assert.ok(Math.abs(autoProposalLimit(400 * 1024 * 1024, ribosome) / large - 2) < 1e-3, 'twice the volume, twice the limit');
  assert.ok(Math.abs(autoProposalLimit(200 * 1024 * 1024, ribosome / 8) / large - 8) < 1e-3, 'particles an eighth the volume: eight times the limit');
});
