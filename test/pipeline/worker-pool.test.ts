import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CryoSam } from '../../src/pipeline/cryosam.js';
import type { Volume } from '../../src/volume/volume.js';
import { scatter, synthetic } from './synthetic.js';

const copy = (v: Volume): Volume => ({ ...v, data: v.data.slice() });

test('proposals segmented on worker threads give exactly the picks and masks of one thread', async () => {
  const shape = [40, 64, 64] as const;
  const particles = scatter(shape, 14, 8, ['sphere', 'rod'], 6);
  const { volume } = synthetic(shape, particles, { radius: 4, contrast: 2.5, seed: 9 });
  const run = async (workers: number) => {
    const sam = await CryoSam.create(copy(volume), { cacheDir: false, workers });
    try {
      return await sam.pick([particles.find((p) => p.kind === 'sphere')!], { topK: 'auto' });
    } finally {
      await sam.dispose();
    }
  };
  const one = await run(1);
  const two = await run(2);
  assert.ok(one.report.proposals > 4, `proposals were segmented: ${one.report.proposals}`);
  assert.deepEqual(two.picks, one.picks);
  assert.deepEqual(two.instances.map((i) => [i.id, i.voxels, i.bbox, Buffer.from(i.mask).toString('base64')]), one.instances.map((i) => [i.id, i.voxels, i.bbox, Buffer.from(i.mask).toString('base64')]));
  assert.deepEqual(two.report.rejected, one.report.rejected);
  assert.ok(two.report.segmenterEmbeddings > 0);
});
