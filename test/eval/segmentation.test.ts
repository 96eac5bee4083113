import { equivalentRadius } from '../../src/pipeline/instance.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  segmentationScore,
  labelRegions,
  estimateClassRadii,
} from '../../src/eval/segmentation.js';

test('dice and IoU on a small mask', () => {
  const pred = Uint8Array.from([1, 1, 0, 0, 1, 0]);
  const truth = Uint8Array.from([1, 0, 0, 1, 1, 0]);
  const s = segmentationScore(pred, truth);
  assert.deepEqual([s.tp, s.fp, s.fn], [2, 1, 1]);
  assert.equal(s.dice, 4 / 6);
  assert.equal(s.iou, 2 / 4);
});

test('labels select one class on either side', () => {
  const pred = Int32Array.from([7, 7, 3, 0, 3]);
  const truth = Int8Array.from([2, 1, 2, 2, 0]);
  const s = segmentationScore(pred, truth, { truthLabel: 2, predLabel: 3 });
  assert.deepEqual([s.tp, s.fp, s.fn], [1, 1, 2]);
  assert.equal(s.dice, 2 / 5);
  const anyPred = segmentationScore(pred, truth, { truthLabel: 2 });
  assert.deepEqual([anyPred.tp, anyPred.fp, anyPred.fn], [2, 2, 1]);
});

test('empty masks score 1; mismatched sizes throw', () => {
  const s = segmentationScore(new Uint8Array(4), new Uint8Array(4));
  assert.deepEqual([s.dice, s.iou], [1, 1]);
  assert.equal(segmentationScore(Uint8Array.from([1]), new Uint8Array(1)).dice, 0);
  assert.throws(() => segmentationScore(new Uint8Array(3), new Uint8Array(4)), /voxels/);
});

test('connected regions and equivalent-sphere radii per label', () => {
  const shape = [6, 6, 6] as const;
  const labels = new Int8Array(216);
  const at = (x: number, y: number, z: number) => (z * 6 + y) * 6 + x;
  // Label 1: a 2×2×2 cube and a separate 1-voxel region; label 2: a 3-voxel rod touching the cube
  // diagonally only (not 6-connected to it anyway, different label).
  for (const [x, y, z] of [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1], [1, 1, 1]]) {
    labels[at(x, y, z)] = 1;
  }
  labels[at(5, 5, 5)] = 1;
  labels[at(3, 3, 3)] = labels[at(4, 3, 3)] = labels[at(5, 3, 3)] = 2;
  const regions = labelRegions(labels, shape);
  assert.deepEqual(
    regions.map((r) => [r.label, r.voxels]),
    [[1, 8], [2, 3], [1, 1]],
  );
  assert.deepEqual(regions[0].centroid, { x: 0.5, y: 0.5, z: 0.5 });
  assert.deepEqual(regions[1].centroid, { x: 4, y: 3, z: 3 });
  const radii = estimateClassRadii(labels, shape);
  assert.deepEqual(Object.keys(radii), ['1', '2']);
  assert.ok(Math.abs(radii['1'] - (equivalentRadius(8) + equivalentRadius(1)) / 2) < 1e-12);
  assert.ok(Math.abs(equivalentRadius((4 / 3) * Math.PI * 125) - 5) < 1e-12);
});
