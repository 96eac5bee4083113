import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInsideVolume, type Shape3 } from '../../src/volume/volume.js';

test('isInsideVolume: voxel centres at integers, so [-0.5, n - 0.5) on each axis', () => {
  const shape: Shape3 = [3, 5, 10]; // nz, ny, nx
  assert.ok(isInsideVolume({ x: 0, y: 0, z: 0 }, shape));
  assert.ok(isInsideVolume({ x: -0.5, y: -0.5, z: -0.5 }, shape));
  assert.ok(isInsideVolume({ x: 9.49, y: 4.49, z: 2.49 }, shape));
  assert.ok(!isInsideVolume({ x: 9.5, y: 0, z: 0 }, shape));
  assert.ok(!isInsideVolume({ x: 0, y: 4.5, z: 0 }, shape));
  assert.ok(!isInsideVolume({ x: 0, y: 0, z: 2.5 }, shape));
  assert.ok(!isInsideVolume({ x: 0, y: -0.51, z: 0 }, shape));
  for (const bad of [NaN, Infinity, -Infinity]) assert.ok(!isInsideVolume({ x: 1, y: 1, z: bad }, shape), String(bad));
});
