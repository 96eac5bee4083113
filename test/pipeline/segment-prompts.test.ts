import assert from 'node:assert/strict';
import { test } from 'node:test';
import { segmentClick, segmentPrompts } from '../../src/pipeline/segment-prompts.js';
import { resolveSegmentOptions, segmentFromPrompt } from '../../src/pipeline/self-prompting.js';
import { easyStage, SHAPE } from './stages.js';

test('each prompt becomes a numbered, prompted instance; masks are disjoint; a prompt on nothing is an error naming it', async () => {
  const { particles, store, tomogram } = easyStage();
  const prompts = [particles[0], { ...particles[0], x: particles[0].x + 1 }];
  const events: number[] = [];
  const instances = await segmentPrompts({ store, tomogram, prompts, segment: resolveSegmentOptions(), onProgress: (e) => events.push(e.done) });
  assert.deepEqual(instances.map((i) => [i.id, i.prompted, i.similarity]), [[1, true, 1], [2, true, 1]]);
  assert.ok(instances[0].voxels > 100, `the particle's mask: ${instances[0].voxels} voxels`);
  assert.equal(instances[1].voxels, 0, 'a second click on the same particle owns none of its voxels');
  assert.deepEqual(events, [0, 1, 2]);
  await assert.rejects(
    segmentPrompts({ store, tomogram, prompts: [...prompts, { x: 1, y: 1, z: 1 }], segment: resolveSegmentOptions(), onProgress: () => {} }),
    /^CryosamError: prompt 3 of 3: no structure found at x=1, y=1, z=1/,
  );
});

test('a click off the particle\'s centre is segmented from the density centre of its first mask', async () => {
  const { particles, store, tomogram, labels } = easyStage();
  const segment = resolveSegmentOptions();
  const overlap = (m: { bbox: { z0: number; z1: number; y0: number; y1: number; x0: number; x1: number }; mask: Uint8Array; voxels: number }, id: number) => {
    let both = 0, truth = 0;
    for (const v of labels) if (v === id) truth++;
    const { z0, z1, y0, y1, x0, x1 } = m.bbox;
    for (let z = z0, i = 0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++, i++) if (m.mask[i] && labels[(z * SHAPE[1] + y) * SHAPE[2] + x] === id) both++;
    return (2 * both) / (m.voxels + truth);
  };
  let recentred = 0;
  for (const [k, p] of particles.entries()) {
    const click = { x: p.x + 3, y: p.y, z: p.z };
    const first = (await segmentFromPrompt(store, SHAPE, click, segment))!;
    const mask = (await segmentClick(store, tomogram, click, segment))!;
    if (mask !== first) recentred++;
    assert.ok(overlap(mask, k + 1) >= overlap(first, k + 1) - 0.05, `particle ${k}: Dice ${overlap(mask, k + 1).toFixed(2)} from the centre, ${overlap(first, k + 1).toFixed(2)} from the click`);
  }
  // A centred click keeps its mask.
  const centred = { x: Math.round(particles[0].x), y: Math.round(particles[0].y), z: Math.round(particles[0].z) };
  assert.deepEqual(await segmentClick(store, tomogram, centred, segment), await segmentFromPrompt(store, SHAPE, centred, segment));
  assert.ok(recentred > 0, 'some clicks 3 voxels off a radius-4 sphere were segmented again from the centre');
});
