import assert from 'node:assert/strict';
import { test } from 'node:test';
import { averageShape, maskFromAverage, masksFromAverage } from '../../src/pipeline/average-masks.js';
import { axisRotation, IDENTITY } from '../../src/pipeline/rotations.js';
import type { Instance } from '../../src/pipeline/types.js';
import { pointMask } from '../../src/pipeline/instance.js';

/**
 * An average box (side 2·half + 1, stride 1) holding a bright ellipsoid of semi-axes a (z), b (y),
 * c (x) at its centre, and a small bright neighbour 6 voxels from the centre along z, not touching it.
 */
function ellipsoidBox(half: number, a: number, b: number, c: number) {
  const size = 2 * half + 1;
  const data = new Float32Array(size ** 3);
  for (let z = 0, k = 0; z < size; z++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++, k++) {
    const dz = z - half, dy = y - half, dx = x - half;
    if ((dz / a) ** 2 + (dy / b) ** 2 + (dx / c) ** 2 <= 1) data[k] = 1;
    // A neighbour averaged in beside the particle, as bright as it.
    if ((dz - 6) ** 2 + dy ** 2 + dx ** 2 <= 1) data[k] = 1;
  }
  return { data, size, stride: 1 };
}

const ellipsoidVoxels = (a: number, b: number, c: number) => {
  let n = 0;
  for (let z = -a; z <= a; z++) for (let y = -b; y <= b; y++) for (let x = -c; x <= c; x++) if ((z / a) ** 2 + (y / b) ** 2 + (x / c) ** 2 <= 1) n++;
  return n;
};

const R = Math.cbrt(3 * 4 * 6);

test('the average\'s shape is what stands above its background, connected to the centre; a neighbour beside it is left out', () => {
  const box = ellipsoidBox(10, 3, 4, 6);
  const volume = ellipsoidVoxels(3, 4, 6);
  const shape = averageShape(box, 1, R)!;
  assert.ok(shape.radiusVoxels > 6, 'the neighbour lies within the mask radius');
  assert.equal(shape.voxels, volume, 'the ellipsoid, not the neighbour');
  // Dark particles (polarity −1): what stands below the background.
  assert.equal(averageShape({ ...box, data: box.data.map((v) => -v) }, -1, R)!.voxels, volume);
  assert.equal(averageShape({ ...box, data: box.data.map((v) => -v) }, 1, R), undefined, 'the wrong polarity shows no particle');
  assert.equal(averageShape({ ...box, data: new Float32Array(box.data.length).fill(0.3) }, 1, R), undefined, 'a flat average shows no particle');
});

test('a particle\'s mask is the shape turned by its alignment and placed at its centre', () => {
  const box = ellipsoidBox(10, 3, 4, 6);
  const shape = averageShape(box, 1, R)!;
  const centre = { x: 20, y: 15, z: 12 };
  const straight = maskFromAverage(shape, centre, IDENTITY, [30, 30, 40])!;
  assert.ok(Math.abs(straight.voxels - ellipsoidVoxels(3, 4, 6)) <= 0.05 * straight.voxels, `${straight.voxels} voxels`);
  assert.deepEqual(straight.centroid, centre);
  assert.ok(maskContains(straight, 20 + 5, 15, 12) && !maskContains(straight, 20, 15 + 5, 12), 'long along x');
  // particle(c + o) ≈ average(R·o): with R a quarter turn about z, the particle's long axis is y.
  const turned = maskFromAverage(shape, centre, axisRotation(0, Math.PI / 2), [30, 30, 40])!;
  assert.ok(maskContains(turned, 20, 15 + 5, 12) && !maskContains(turned, 20 + 5, 15, 12), 'long along y');
  assert.equal(turned.voxels, straight.voxels);
  // Cut by the tomogram's edge.
  const edge = maskFromAverage(shape, { x: 1, y: 15, z: 12 }, IDENTITY, [30, 30, 40])!;
  assert.equal(edge.bbox.x0, 0);
  assert.ok(edge.voxels < straight.voxels);
});

function maskContains(m: { bbox: Instance['bbox']; mask: Uint8Array }, x: number, y: number, z: number): boolean {
  const b = m.bbox;
  if (z < b.z0 || z >= b.z1 || y < b.y0 || y >= b.y1 || x < b.x0 || x >= b.x1) return false;
  return m.mask[((z - b.z0) * (b.y1 - b.y0) + (y - b.y0)) * (b.x1 - b.x0) + (x - b.x0)] === 1;
}

test('masks from the average keep each instance\'s id, stay disjoint, and leave an unaligned instance\'s mask as it was', () => {
  const box = ellipsoidBox(10, 3, 4, 6);
  const shape: [number, number, number] = [30, 30, 60];
  const inst = (id: number, x: number): Instance => ({ ...pointMask({ x, y: 15, z: 12 }, shape), id, prompted: id === 1, similarity: 1 / id });
  const a = inst(1, 20), b = inst(2, 28), c = inst(3, 45);
  const out = masksFromAverage({
    instances: [a, b, c], average: box, rotation: new Map([[a, IDENTITY], [b, IDENTITY]]),
    centreOf: (i) => i.centroid, polarity: 1, equivalentRadius: R, shape,
  })!;
  assert.deepEqual(out.map((i) => [i.id, i.prompted, i.similarity]), [[1, true, 1], [2, false, 0.5], [3, false, 1 / 3]]);
  assert.ok(out[0].voxels > 100, 'drawn from the average');
  // a and b overlap along x (centres 8 apart, semi-axis 6): the earlier keeps the shared voxels.
  assert.ok(out[1].voxels < out[0].voxels);
  for (let x = 22; x <= 26; x++) assert.ok(!(maskContains(out[0], x, 15, 12) && maskContains(out[1], x, 15, 12)), `voxel x=${x} in both`);
  assert.equal(out[2].mask, c.mask, 'no rotation: the segmented mask');
  const flat = masksFromAverage({
    instances: [a, b], average: { ...box, data: new Float32Array(box.data.length) }, rotation: new Map([[a, IDENTITY], [b, IDENTITY]]),
    centreOf: (i) => i.centroid, polarity: 1, equivalentRadius: R, shape,
  });
  assert.equal(flat, undefined, 'an average that shows no particle draws no mask');
});
