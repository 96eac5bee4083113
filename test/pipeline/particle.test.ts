import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromBoxMask } from '../../src/pipeline/instance.js';
import { DEFAULTS } from '../../src/pipeline/defaults.js';
import { centreGeometry, contrastPolarity, densityCentre, maskSignificance, repeatedParticles } from '../../src/pipeline/particle.js';
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

test('a mask over a particle stands out of the noise; the same mask over noise alone does not', () => {
  // A dark ball of radius 4 at (24, 24, 12) in noise of sd 1 whose contrast is 1.5 sd: faint voxel by voxel.
  const vol = createVolume([N, N, N], 10);
  const rand = rng(11);
  for (let z = 0; z < N; z++)
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++) {
        const noise = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
        vol.data[(z * N + y) * N + x] = noise - ((z - C) ** 2 + (y - C) ** 2 + (x - 12) ** 2 <= 16 ? 1.5 : 0);
      }
  const ballAt = (cx: number) => {
    const box = new Uint8Array(9 * 9 * 9);
    for (let z = 0, k = 0; z < 9; z++) for (let y = 0; y < 9; y++) for (let x = 0; x < 9; x++, k++) box[k] = (z - 4) ** 2 + (y - 4) ** 2 + (x - 4) ** 2 <= 16 ? 1 : 0;
    return fromBoxMask({ z0: C - 4, z1: C + 5, y0: C - 4, y1: C + 5, x0: cx - 4, x1: cx + 5 }, box);
  };
  const onParticle = maskSignificance(vol, ballAt(12));
  assert.ok(onParticle < -DEFAULTS.segment.minSignificance * 2, `on the particle: ${onParticle.toFixed(2)} sd (dark, so negative)`);
  const onNoise = maskSignificance(vol, ballAt(36));
  assert.ok(Math.abs(onNoise) < DEFAULTS.segment.minSignificance, `on noise: ${onNoise.toFixed(2)} sd`);
  // Deterministic: the random placements are the same every time.
  assert.equal(maskSignificance(vol, ballAt(36)), onNoise);
});
