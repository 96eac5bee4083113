import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toPicks } from '../../src/pipeline/picks.js';
import type { Instance } from '../../src/pipeline/types.js';

const inst = (id: number, similarity: number): Instance => ({
  id, similarity, prompted: id === 1, voxels: 8, centroid: { x: id, y: 0, z: 0 }, bbox: { z0: 0, z1: 2, y0: 0, y1: 2, x0: 0, x1: 2 }, mask: new Uint8Array(8).fill(1),
});

test('picks sit at density centres; their score is the template correlation after the cut, else the similarity', () => {
  const a = inst(1, 1), b = inst(2, 0.8);
  const centre = (i: Instance) => ({ x: i.centroid.x + 0.5, y: 1, z: 2 });
  const voxelSize = { x: 10, y: 10, z: 10 };
  const cut = toPicks([a, b], centre, (inst) => new Map([[a, 0.9], [b, 0.4]]).get(inst), voxelSize);
  assert.deepEqual(cut.map((p) => [p.x, p.y, p.z, p.score, p.similarity, p.templateCorrelation, p.instanceId]), [[1.5, 1, 2, 0.9, 1, 0.9, 1], [2.5, 1, 2, 0.4, 0.8, 0.4, 2]]);
  assert.equal(cut[0].volumeNm3, 8, '8 voxels of 1 nm³');
  const fixed = toPicks([a, b], centre, undefined, voxelSize);
  assert.deepEqual(fixed.map((p) => [p.score, 'templateCorrelation' in p]), [[1, false], [0.8, false]]);
});
