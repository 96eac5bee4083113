import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitLookAlikes } from '../../src/pipeline/look-alikes.js';
import { alignmentWorkers } from '../../src/pipeline/self-template.js';
import { MIN_CUT_INSTANCES, templateCut } from '../../src/pipeline/template-cut.js';
import type { Instance, VoxelPoint } from '../../src/pipeline/types.js';
import { createVolume } from '../../src/volume/volume.js';
import { rng } from './synthetic.js';

/**
 * Dark balls with one knob (the prompt's kind) and look-alikes of the same size with two opposite
 * knobs, each turned at random, in noise; the first particle is prompted.
 */
function knobbed(targets: number, lookAlikes: number) {
  const count = 1 + targets + lookAlikes, columns = 10, spacing = 22;
  const shape = [30, spacing * Math.ceil(count / columns) + 8, spacing * columns + 8] as const;
  const vol = createVolume([...shape], 10);
  const rand = rng(5);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  for (let i = 0; i < vol.data.length; i++) vol.data[i] = 0.45 * gauss();
  const paint = (c: VoxelPoint, knobs: VoxelPoint[]) => {
    for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[2]; x++) {
      const dz = z - c.z, dy = y - c.y, dx = x - c.x;
      const inBall = dz * dz + dy * dy + dx * dx <= 16;
      const inKnob = knobs.some((k) => (dz - 6 * k.z) ** 2 + (dy - 6 * k.y) ** 2 + (dx - 6 * k.x) ** 2 <= 9);
      if (inBall || inKnob) vol.data[(z * shape[1] + y) * shape[2] + x] -= 1;
    }
  };
  const direction = (): VoxelPoint => {
    const c = 2 * rand() - 1, phi = 2 * Math.PI * rand(), s = Math.sqrt(1 - c * c);
    return { x: s * Math.cos(phi), y: s * Math.sin(phi), z: c };
  };
  const centres = Array.from({ length: count }, (_, i) => ({ x: 15 + spacing * (i % columns), y: 15 + spacing * Math.floor(i / columns), z: 15 }));
  const isLookAlike = (i: number) => i > 0 && i % 5 === 0 && i <= 5 * lookAlikes;
  centres.forEach((c, i) => {
    const u = direction();
    paint(c, isLookAlike(i) ? [u, { x: -u.x, y: -u.y, z: -u.z }] : [u]);
  });
  const inst = (c: VoxelPoint, id: number, prompted: boolean): Instance => ({
    bbox: { z0: c.z, z1: c.z + 1, y0: c.y, y1: c.y + 1, x0: c.x, x1: c.x + 1 }, mask: new Uint8Array([1]), voxels: 1, centroid: c, id, prompted, similarity: prompted ? 1 : 0.9,
  });
  const prompt = inst(centres[0], 1, true);
  const found = centres.slice(1).map((c, i) => inst(c, i + 2, false));
  return { vol, prompt, found, lookAlikeIds: new Set(found.filter((_, i) => isLookAlike(i + 1)).map((f) => f.id)) };
}

/** The look-alike split of `kept`, with the rotations and correlations of a template cut over them. */
async function split(vol: ReturnType<typeof knobbed>['vol'], prompt: Instance, kept: Instance[], threads = 1) {
  const common = { tomogram: vol, prompted: [prompt], centreOf: (i: Instance) => i.centroid, equivalentRadius: 5, measured: undefined, onProgress: () => {} };
  const cut = await templateCut({ ...common, found: kept });
  return splitLookAlikes({ ...common, kept, rotation: cut.rotation, correlation: cut.correlation, threads });
}

test('look-alikes of the same size are split off the kept particles, the targets stay, on worker threads alike', async () => {
  const { vol, prompt, found, lookAlikeIds } = knobbed(26, 6);
  assert.equal(lookAlikeIds.size, 6);
  assert.ok(alignmentWorkers(found.length + 1, 2) === 2, 'enough particles for two worker threads');
  const result = await split(vol, prompt, found);
  assert.deepEqual((await split(vol, prompt, found, 2)).kept, result.kept, 'the same split on two worker threads');
  const keptIds = new Set(result.kept.map((i) => i.id));
  const lookAlikesKept = [...lookAlikeIds].filter((id) => keptIds.has(id)).length;
  const targetsLost = found.filter((f) => !lookAlikeIds.has(f.id) && !keptIds.has(f.id)).length;
  assert.ok(lookAlikesKept <= 1, `look-alikes kept: ${lookAlikesKept} of 6`);
  assert.ok(targetsLost <= 1, `targets split off: ${targetsLost} of 26`);
  assert.equal(result.lookAlikes, found.length - result.kept.length);
  assert.deepEqual(result.kept, found.filter((f) => keptIds.has(f.id)), 'kept in the order given');
});

test('particles of one kind are not split', async () => {
  const { vol, prompt, found, lookAlikeIds } = knobbed(24, 6);
  const targets = found.filter((f) => !lookAlikeIds.has(f.id));
  const result = await split(vol, prompt, targets);
  assert.equal(result.lookAlikes, 0, `split off: ${result.lookAlikes} of ${targets.length} targets`);
  assert.deepEqual(result.kept, targets);
});

test('too few particles to classify are all kept', async () => {
  const { vol, prompt, found } = knobbed(24, 6);
  const few = found.slice(0, MIN_CUT_INSTANCES - 2);
  const result = await splitLookAlikes({
    tomogram: vol, prompted: [prompt], kept: few, centreOf: (i) => i.centroid, rotation: new Map(), correlation: new Map(), equivalentRadius: 5, measured: undefined, onProgress: () => {},
  });
  assert.equal(result.lookAlikes, 0);
  assert.deepEqual(result.kept, few);
});
