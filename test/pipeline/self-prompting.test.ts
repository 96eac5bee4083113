import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClassicalSegmenter } from '../../src/engines/classical/segmenter.js';
import { EmbeddingStore } from '../../src/pipeline/embedding-store.js';
import { resolveSegmentOptions, segmentFromPrompt, type ResolvedSegmentOptions } from '../../src/pipeline/self-prompting.js';
import type { ParticleMask, VoxelPoint } from '../../src/pipeline/types.js';
import { normalizeRobust } from '../../src/volume/normalize.js';
import { synthetic } from './synthetic.js';

/** IoU of an instance with ground-truth label `id`. */
function maskIoU(inst: ParticleMask, labels: Int32Array, id: number, shape: readonly number[]): number {
  const [, ny, nx] = shape;
  let inter = 0, truth = 0;
  for (const v of labels) if (v === id) truth++;
  const { z0, z1, y0, y1, x0, x1 } = inst.bbox;
  for (let z = z0; z < z1; z++)
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        const m = inst.mask[((z - z0) * (y1 - y0) + (y - y0)) * (x1 - x0) + (x - x0)];
        if (m && labels[(z * ny + y) * nx + x] === id) inter++;
      }
  return inter / (inst.voxels + truth - inter);
}

// Radius 10 voxels: a ribosome at 10 Å/voxel. (Smaller spheres score lower: the classical segmenter's
// slice masks sit about half a voxel outside a hard edge, a shell that weighs more on small particles.)
const shape = [40, 48, 48] as const;
const sphere = { kind: 'sphere' as const, x: 23, y: 25, z: 19 };

async function segment(store: EmbeddingStore, p: VoxelPoint, opts: ResolvedSegmentOptions): Promise<ParticleMask> {
  const inst = await segmentFromPrompt(store, shape, p, opts);
  assert.ok(inst, 'a particle under the prompt');
  return inst;
}

function setup() {
  const s = synthetic(shape, [sphere], { radius: 10, contrast: 1.5, seed: 11 });
  normalizeRobust(s.volume, {}, true);
  const segmenter = new ClassicalSegmenter();
  const store = new EmbeddingStore(s.volume, segmenter, undefined, 'test');
  return { s, store };
}

test('one prompt segments a dark sphere in noise with IoU ≥ 0.8 (cross-plane, classical engine)', async () => {
  const { s, store } = setup();
  const inst = await segment(store, { x: 24, y: 24, z: 20 }, resolveSegmentOptions());
  const iou = maskIoU(inst, s.labels, 1, shape);
  assert.ok(iou >= 0.8, `IoU ${iou.toFixed(3)}`);
  assert.ok(Math.hypot(inst.centroid.x - sphere.x, inst.centroid.y - sphere.y, inst.centroid.z - sphere.z) < 1.5);
  // Lazily embedded: the walk visits slices near the particle only, never whole axes.
  assert.ok(store.stats.embedded < 40 + 48 + 48, `embedded ${store.stats.embedded}`);
  assert.ok(store.stats.embedded > 3);
});

test('z-only propagation (the released code) also recovers the sphere, visiting only z slices', async () => {
  const { s, store } = setup();
  const inst = await segment(store, { x: 23, y: 25, z: 19 }, resolveSegmentOptions({ axes: ['z'] }));
  assert.ok(maskIoU(inst, s.labels, 1, shape) >= 0.7);
  assert.ok(store.stats.embedded <= 40);
});

test('a strict IoU threshold stops propagation early; a prompt in empty background gives a tiny instance', async () => {
  const { store } = setup();
  const loose = await segment(store, sphere, resolveSegmentOptions());
  const strict = await segment(store, sphere, resolveSegmentOptions({ iouThreshold: 0.999 }));
  assert.ok(strict.voxels < loose.voxels, `${strict.voxels} < ${loose.voxels}`);
  const empty = await segmentFromPrompt(store, shape, { x: 4, y: 4, z: 4 }, resolveSegmentOptions());
  assert.ok(!empty || empty.voxels < loose.voxels / 4, `background prompt gave ${empty?.voxels} voxels`);
});
