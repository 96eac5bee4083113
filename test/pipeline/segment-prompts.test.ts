import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSegmentOptions } from '../../src/pipeline/self-prompting.js';
import { segmentPrompts } from '../../src/pipeline/segment-prompts.js';
import { easyStage, SHAPE } from './stages.js';

test('each prompt becomes a numbered, prompted instance; masks are disjoint; an empty spot keeps its voxel', async () => {
  const { particles, store } = easyStage();
  const prompts = [particles[0], { ...particles[0], x: particles[0].x + 1 }, { x: 1, y: 1, z: 1 }];
  const events: number[] = [];
  const instances = await segmentPrompts({ store, shape: SHAPE, prompts, segment: resolveSegmentOptions(), onProgress: (e) => events.push(e.done) });
  assert.deepEqual(instances.map((i) => [i.id, i.prompted, i.similarity]), [[1, true, 1], [2, true, 1], [3, true, 1]]);
  assert.ok(instances[0].voxels > 100, `the particle's mask: ${instances[0].voxels} voxels`);
  assert.equal(instances[1].voxels, 0, 'a second click on the same particle owns none of its voxels');
  assert.ok(instances[2].voxels <= 1, 'a click in the background gives at most its own voxel');
  assert.deepEqual(events, [0, 1, 2, 3]);
});
