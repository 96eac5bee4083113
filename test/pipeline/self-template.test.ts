import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignToSelfTemplate, type SelfTemplateOptions } from '../../src/pipeline/self-template.js';
import type { TransferFunction } from '../../src/volume/fourier.js';
import type { VoxelPoint } from '../../src/pipeline/types.js';
import { angleBetweenDeg, multiply, rotationGrid, transpose } from '../../src/pipeline/rotations.js';
import { applyFourierFilter } from '../../src/volume/fourier.js';
import { measuredRegion } from '../../src/volume/missing-wedge.js';
import { createVolume, type Volume } from '../../src/volume/volume.js';
import { randomRotation, rng } from './synthetic.js';

/** The first centre is the prompt, the rest candidates; scores and rotations in that order. */
async function align(vol: Volume, centres: VoxelPoint[], radius: number, options: SelfTemplateOptions & { measured?: TransferFunction } = {}) {
  const { measured, ...rest } = options;
  const r = await alignToSelfTemplate({ tomogram: vol, prompts: centres.slice(0, 1), candidates: centres.slice(1), equivalentRadius: radius, measured }, rest);
  return { scores: Float64Array.from([...r.promptScores, ...r.candidateScores]), rotations: r.rotations, average: r.average };
}

type Matrix = Float64Array;


test('the rotation grid holds proper rotations and covers SO(3) at about its step', () => {
  const grid = rotationGrid(30);
  assert.ok(grid.length > 300 && grid.length < 900, `${grid.length} rotations`);
  for (const R of grid) {
    const det = R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
    assert.ok(Math.abs(det - 1) < 1e-9, 'determinant 1');
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      const d = R[i] * R[j] + R[3 + i] * R[3 + j] + R[6 + i] * R[6 + j];
      assert.ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-9, 'orthonormal columns');
    }
  }
  const rand = rng(7);
  let worst = 0;
  for (let t = 0; t < 200; t++) {
    const Q = randomRotation(rand);
    worst = Math.max(worst, Math.min(...grid.map((R) => angleBetweenDeg(R, Q))));
  }
  assert.ok(worst < 30, `every rotation within 30° of the grid (worst ${worst.toFixed(1)}°)`);
});

type Blob = [dz: number, dy: number, dx: number, radius: number];
// An asymmetric particle, and another of about the same size and mass with its lobes elsewhere.
const shapeA: Blob[] = [[0, 0, 0, 4], [0, 0, 5, 2.5], [4, 2, 0, 2.5]];
const shapeB: Blob[] = [[0, 0, 0, 4], [0, 0, 5, 2.5], [0, 0, -5, 2.5]];

/** Particles of the given kinds in random orientations along x, in noise of the given amplitude. */
function particles(kinds: readonly ('A' | 'B')[], seed: number, noise: number): { vol: Volume; centres: { z: number; y: number; x: number }[] } {
  const rand = rng(seed);
  const box = 28;
  const vol = createVolume([box, box, box * kinds.length], 10);
  const [, ny, nx] = vol.shape;
  for (let i = 0; i < vol.data.length; i++) vol.data[i] = noise * (rand() - 0.5) * Math.sqrt(12);
  const centres = kinds.map((_, k) => ({ z: box / 2, y: box / 2, x: box / 2 + k * box }));
  kinds.forEach((kind, k) => {
    const R = randomRotation(rand);
    const c = centres[k];
    for (const [dz, dy, dx, r] of kind === 'A' ? shapeA : shapeB) {
      const bz = c.z + R[0] * dz + R[1] * dy + R[2] * dx, by = c.y + R[3] * dz + R[4] * dy + R[5] * dx, bx = c.x + R[6] * dz + R[7] * dy + R[8] * dx;
      for (let z = Math.floor(bz - r); z <= Math.ceil(bz + r); z++)
        for (let y = Math.floor(by - r); y <= Math.ceil(by + r); y++)
          for (let x = Math.floor(bx - r); x <= Math.ceil(bx + r); x++) {
            if ((z - bz) ** 2 + (y - by) ** 2 + (x - bx) ** 2 <= r * r) vol.data[(z * ny + y) * nx + x] = -1 + noise * (rand() - 0.5) * Math.sqrt(12);
          }
    }
  });
  return { vol, centres };
}

function separation(kinds: readonly string[], scores: Float64Array): { copies: number[]; lookAlikes: number[]; text: string } {
  const copies = kinds.flatMap((k, i) => (k === 'A' && i > 0 ? [scores[i]] : []));
  const lookAlikes = kinds.flatMap((k, i) => (k === 'B' ? [scores[i]] : []));
  return { copies, lookAlikes, text: `copies ${copies.map((s) => s.toFixed(2))} vs look-alikes ${lookAlikes.map((s) => s.toFixed(2))}` };
}

const KINDS = ['A', 'A', 'B', 'A', 'B', 'A', 'B', 'A'] as const;

test('copies of the prompted particle in any orientation outscore a look-alike of the same size', async () => {
  const { vol, centres } = particles(KINDS, 11, 0.6);
  const scores = (await align(vol, centres, 5)).scores;
  assert.deepEqual(Array.from((await align(vol, centres, 5)).scores), Array.from(scores), 'deterministic');
  const first = (await align(vol, centres, 5, { rounds: 1 })).scores;
  assert.ok(first[0] > 0.99, `before averaging, the prompt matches itself (${first[0].toFixed(4)})`);
  const { copies, lookAlikes, text } = separation(KINDS, scores);
  assert.ok(Math.min(...copies) > Math.max(...lookAlikes), text);
});

test('noise-free rotated copies match the prompt almost perfectly', async () => {
  const kinds = ['A', 'A', 'A', 'B'] as const;
  const { vol, centres } = particles(kinds, 5, 0);
  const scores = (await align(vol, centres, 5, { rounds: 1 })).scores;
  const { copies, lookAlikes, text } = separation(kinds, scores);
  assert.ok(Math.min(...copies) > 0.9, text);
  assert.ok(Math.max(...lookAlikes) < Math.min(...copies), text);
});

test('with a missing wedge, poses are found only when the comparison leaves the wedge out', async () => {
  // Noise-free copies of one asymmetric particle, seen through a ±60° wedge about y. Compared over
  // all of Fourier space, a copy's best rotation lays the prompt's wedge onto its own; over the
  // components both measured, it is the particle's true rotation relative to the prompt.
  const lobes: Blob[] = [[0, 0, 0, 4], [0, 0, 6, 3], [5, 2, 0, 2.5], [-2, 5, -2, 2]];
  const rand = rng(12);
  const box = 32, n = 8;
  const vol = createVolume([box, box, box * n], 10);
  const [, ny, nx] = vol.shape;
  const centres: { z: number; y: number; x: number }[] = [];
  const truth: Matrix[] = [];
  for (let k = 0; k < n; k++) {
    const R = randomRotation(rand);
    const c = { z: box / 2, y: box / 2, x: box / 2 + k * box };
    truth.push(R);
    centres.push(c);
    for (const [dz, dy, dx, r] of lobes) {
      const bz = c.z + R[0] * dz + R[1] * dy + R[2] * dx, by = c.y + R[3] * dz + R[4] * dy + R[5] * dx, bx = c.x + R[6] * dz + R[7] * dy + R[8] * dx;
      for (let z = Math.floor(bz - r); z <= Math.ceil(bz + r); z++)
        for (let y = Math.floor(by - r); y <= Math.ceil(by + r); y++)
          for (let x = Math.floor(bx - r); x <= Math.ceil(bx + r); x++) {
            if ((z - bz) ** 2 + (y - by) ** 2 + (x - bx) ** 2 <= r * r) vol.data[(z * ny + y) * nx + x] = -1;
          }
    }
  }
  const range = { axis: 'y', minDeg: -60, maxDeg: 60 } as const;
  applyFourierFilter(vol, measuredRegion(range));
  // Copy k is the particle turned by truth[k]; the prompt (copy 0) is the reference: R_k = Q_0·Q_kᵀ.
  const medianError = (rotations: Matrix[]) => {
    const errors = truth.slice(1).map((Q, k) => angleBetweenDeg(rotations[k + 1], multiply(truth[0], transpose(Q)))).sort((a, b) => a - b);
    return errors[Math.floor(errors.length / 2)];
  };
  const constrained = medianError((await align(vol, centres, 6, { measured: measuredRegion(range), rounds: 1 })).rotations);
  const plain = medianError((await align(vol, centres, 6, { rounds: 1 })).rotations);
  assert.ok(constrained < 15, `median pose error with the wedge left out: ${constrained.toFixed(1)}°`);
  assert.ok(plain > 45, `median pose error over all components: ${plain.toFixed(1)}° (the wedge bias this guards against)`);
});
