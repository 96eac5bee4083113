import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combinedEvidence, autoCut, MIN_CUT_INSTANCES } from '../../src/pipeline/auto-cut.js';
import { fromBoxMask } from '../../src/pipeline/instance.js';
import { contrastPolarity, densityCentre, repeatedParticles, shapeSignature, signatureCorrelation, signatureGeometry } from '../../src/pipeline/verify.js';
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

// An asymmetric particle; the same turned 90° about z (x → y, y → −x); another of the same mass.
const shapeA: Blob[] = [[0, 0, 0, 5], [0, 0, 6, 3], [4, 3, 0, 3]];
const turned: Blob[] = shapeA.map(([dz, dy, dx, r]) => [dz, dx, -dy, r]);
const shapeB: Blob[] = [[0, 0, 0, 5], [0, 0, 6, 3], [0, 0, -6, 3]];

test('the shape signature does not depend on orientation and tells shapes apart', () => {
  const g = signatureGeometry(8);
  const sig = (blobs: Blob[], seed: number) => {
    const vol = particle(blobs, seed);
    return shapeSignature(vol, densityCentre(vol, { z: C, y: C, x: C }, g, -1), g);
  };
  const a = sig(shapeA, 1);
  const sameTurned = signatureCorrelation(a, sig(turned, 2));
  const other = signatureCorrelation(a, sig(shapeB, 3));
  assert.ok(sameTurned > 0.98, `same particle turned: ${sameTurned}`);
  assert.ok(other < sameTurned - 0.05, `another shape: ${other} vs ${sameTurned}`);
});

test('the density centre is the particle\'s centre of mass, wherever the search starts', () => {
  const vol = particle([[0, 0, 0, 5], [0, 0, 7, 4]], 4);
  const g = signatureGeometry(9);
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
  const inst = fromBoxMask(box, mask, 1, 1, true);
  assert.equal(contrastPolarity(particle([[0, 0, 0, 4]], 5, -1), [inst]), -1);
  assert.equal(contrastPolarity(particle([[0, 0, 0, 4]], 5, +1), [inst]), 1);
});

test('the shape cut separates look-alikes that feature similarity alone ranks among the targets', () => {
  const rand = rng(7);
  // 30 targets and 20 look-alikes with overlapping similarities; the shape correlation differs.
  const n = 50;
  const isTarget = Array.from({ length: n }, (_, i) => i < 30);
  const similarity = isTarget.map((t) => (t ? 0.955 : 0.948) + 0.02 * (rand() - 0.5));
  const shape = isTarget.map((t) => (t ? 0.9 : 0.6) + 0.05 * (rand() - 0.5));
  const evidence = combinedEvidence(similarity, shape);
  const order = evidence.map((e, i) => ({ e, t: isTarget[i] })).sort((a, b) => b.e - a.e);
  const kept = order.slice(0, autoCut(order.map((o) => o.e), [], 'shape'));
  const keptTargets = kept.filter((o) => o.t).length;
  assert.ok(keptTargets >= 28, `targets kept: ${keptTargets} of 30`);
  assert.ok(kept.length - keptTargets <= 2, `look-alikes kept: ${kept.length - keptTargets}`);
  const bySimilarity = similarity.map((s, i) => ({ s, t: isTarget[i] })).sort((a, b) => b.s - a.s).slice(0, 30);
  assert.ok(bySimilarity.filter((o) => o.t).length < 26, 'similarity alone does not separate them (the test would prove nothing)');
  const few = order.slice(0, MIN_CUT_INSTANCES - 1).map((o) => o.e);
  assert.equal(autoCut(few, [], 'shape'), few.length, 'too few instances to split: keep all');
});

test('a particle found twice keeps its first mask; neighbours further than the radius stay', () => {
  const at = (x: number, name: string) => ({ name, c: { x, y: 10, z: 10 } });
  const ordered = [at(20, 'a'), at(23, 'a again'), at(40, 'b'), at(51, 'c'), at(4, 'prompt again')];
  const repeats = repeatedParticles(ordered, (o) => o.c, 5, [{ x: 0, y: 10, z: 10 }]);
  assert.deepEqual([...repeats].map((o) => o.name), ['a again', 'prompt again']);
  assert.equal(repeatedParticles(ordered, (o) => o.c, 2).size, 0, 'all further apart than 2 voxels');
});
