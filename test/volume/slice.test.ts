import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractSlice, insertSlice, sliceCount, sliceShape, sliceToVoxel, voxelToSlice } from '../../src/volume/slice.js';
import { AXES, createVolume, type Shape3 } from '../../src/volume/volume.js';
import { CryosamError } from '../../src/errors.js';

const shape: Shape3 = [3, 4, 5];
const vol = createVolume(shape, 10);
const [nz, ny, nx] = shape;
for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) vol.data[(z * ny + y) * nx + x] = 100 * z + 10 * y + x;

test('slice shapes follow the axis convention on a non-cubic volume', () => {
  assert.deepEqual(sliceShape(shape, 'z'), [4, 5]);
  assert.deepEqual(sliceShape(shape, 'y'), [3, 5]);
  assert.deepEqual(sliceShape(shape, 'x'), [3, 4]);
  assert.deepEqual(AXES.map((a) => sliceCount(shape, a)), [3, 4, 5]);
});

test('every slice pixel holds the voxel that sliceToVoxel names, and voxelToSlice inverts it', () => {
  for (const axis of AXES) {
    for (let index = 0; index < sliceCount(shape, axis); index++) {
      const s = extractSlice(vol, axis, index);
      for (let row = 0; row < s.height; row++) {
        for (let col = 0; col < s.width; col++) {
          const p = sliceToVoxel(axis, index, row, col);
          assert.equal(s.data[row * s.width + col], 100 * p.z + 10 * p.y + p.x);
          assert.deepEqual(voxelToSlice(axis, p), { index, row, col });
        }
      }
    }
  }
});

test('insertSlice writes back what extractSlice read, reusing an output buffer', () => {
  const copy = createVolume(shape);
  for (const axis of AXES) {
    const buf = new Float32Array(sliceShape(shape, axis).reduce((a, b) => a * b));
    copy.data.fill(0);
    for (let i = 0; i < sliceCount(shape, axis); i++) insertSlice(copy, axis, i, extractSlice(vol, axis, i, buf));
    assert.deepEqual(copy.data, vol.data);
  }
});

test('out-of-range slice indices throw CryosamError', () => {
  assert.throws(() => extractSlice(vol, 'x', 5), CryosamError);
  assert.throws(() => extractSlice(vol, 'z', -1), CryosamError);
  assert.throws(() => extractSlice(vol, 'y', 0, new Float32Array(3)), CryosamError);
});
