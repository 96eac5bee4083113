import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromBoxMask } from '../../src/pipeline/instance.js';
import { centreGeometry, contrastPolarity, densityCentre, repeatedParticles } from '../../src/pipeline/particle.js';
import { createVolume, type Volume } from '../../src/volume/volume.js';
import { rng } from './synthetic.js';

type Blob = [dz: number, dy: number, dx: number, radius: number];
const N = 48;
const C = 24;

/** A dark particle made of balls at offsets from the volume centre, in weak noise. */
function particle(blobs: Blob[], seed: number, sign = -1): Volume {
  const vol = createVolume([N, N, N], 10);
  const rand = rng(seed);
  for (let z = 0; z < N; z++)
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++) {
        let v = 0.05 * (rand() - 0.5);
        for (const [dz, dy, dx, r] of blobs) if ((z - C - dz) ** 2 + (y - C - dy) ** 2 + (x - C - dx) ** 2 <= r * r) v += sign;
        vol.data[(z * N + y) * N + x] = v;
      }
  return vol;
}

test('the density centre is the particle\'s centre of mass, wherever the search starts', () => {
  const vol = particle([[0, 0, 0, 5], [0, 0, 7, 4]], 4);
  const g = centreGeometry(9);
  // Mass-weighted x of the two balls (volume ∝ r³): 7 × 64 / (125 + 64).
  const expectedX = C + (7 * 64) / (125 + 64);
  for (const start of [{ z: C + 2, y: C - 2, x: C }, { z: C, y: C, x: C + 5 }]) {
    const c = densityCentre(vol, start, g, -1);
    assert.ok(Math.abs(c.x - expectedX) < 0.5 && Math.abs(c.y - C) < 0.5 && Math.abs(c.z - C) < 0.5, JSON.stringify(c));
  }
});

test('contrast polarity follows the prompted particles', () => {
  const box = { z0: C - 6, z1: C + 7, y0: C - 6, y1: C + 7, x0: C - 6, x1: C + 7 };
  const mask = new Uint8Array(13 ** 3);
  for (let z = 0; z < 13; z++) for (let y = 0; y < 13; y++) for (let x = 0; x < 13; x++) mask[(z * 13 + y) * 13 + x] = (z - 6) ** 2 + (y - 6) ** 2 + (x - 6) ** 2 <= 16 ? 1 : 0;
  const inst = fromBoxMask(box, mask);
  assert.equal(contrastPolarity(particle([[0, 0, 0, 4]], 5, -1), [inst]), -1);
  assert.equal(contrastPolarity(particle([[0, 0, 0, 4]], 5, +1), [inst]), 1);
});

test('a particle found twice keeps its first mask; neighbours further than the radius stay', () => {
  const at = (x: number, name: string) => ({ name, c: { x, y: 10, z: 10 } });
  const ordered = [at(20, 'a'), at(23, 'a again'), at(40, 'b'), at(51, 'c'), at(4, 'prompt again')];
  const repeats = repeatedParticles(ordered, (o) => o.c, 5, [{ x: 0, y: 10, z: 10 }]);
  assert.deepEqual([...repeats].map((o) => o.name), ['a again', 'prompt again']);
  assert.equal(repeatedParticles(ordered, (o) => o.c, 2).size, 0, 'all further apart than 2 voxels');
});
