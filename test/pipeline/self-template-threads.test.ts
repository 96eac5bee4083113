import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlignWorkers, type AlignWorkerData } from '../../src/pipeline/align-workers.js';
import { alignmentWorkers, alignToSelfTemplate, type SelfTemplateInput, type SelfTemplateOptions, type SelfTemplateResult } from '../../src/pipeline/self-template.js';
import type { ProgressEvent } from '../../src/progress.js';
import { applyFourierFilter } from '../../src/volume/fourier.js';
import { measuredRegion } from '../../src/volume/missing-wedge.js';
import { createVolume, type Volume } from '../../src/volume/volume.js';
import { randomRotation, rng } from './synthetic.js';

type Blob = [dz: number, dy: number, dx: number, radius: number];
// An asymmetric particle (no rotation maps it onto itself), and a look-alike of about its size.
const particle: Blob[] = [[0, 0, 0, 4], [0, 0, 5, 2.5], [4, 2, 0, 2.5]];
const lookAlike: Blob[] = [[0, 0, 0, 4], [0, 0, 5, 2.5], [0, 0, -5, 2.5]];


/** `rows`·`cols` particles (every fourth a look-alike) in random orientations on a grid in y and x, in noise, seen through a ±60° wedge. */
function tomogram(rows: number, cols: number, seed: number): { vol: Volume; centres: { z: number; y: number; x: number }[] } {
  const rand = rng(seed);
  const box = 24;
  const vol = createVolume([box, rows * box, cols * box], 10);
  const [, ny, nx] = vol.shape;
  for (let i = 0; i < vol.data.length; i++) vol.data[i] = 0.5 * (rand() - 0.5);
  const centres = Array.from({ length: rows * cols }, (_, k) => ({ z: box / 2, y: box / 2 + Math.floor(k / cols) * box, x: box / 2 + (k % cols) * box }));
  centres.forEach((c, k) => {
    const R = randomRotation(rand);
    for (const [dz, dy, dx, r] of k % 4 === 3 ? lookAlike : particle) {
      const bz = c.z + R[0] * dz + R[1] * dy + R[2] * dx, by = c.y + R[3] * dz + R[4] * dy + R[5] * dx, bx = c.x + R[6] * dz + R[7] * dy + R[8] * dx;
      for (let z = Math.floor(bz - r); z <= Math.ceil(bz + r); z++)
        for (let y = Math.floor(by - r); y <= Math.ceil(by + r); y++)
          for (let x = Math.floor(bx - r); x <= Math.ceil(bx + r); x++) {
            if ((z - bz) ** 2 + (y - by) ** 2 + (x - bx) ** 2 <= r * r) vol.data[(z * ny + y) * nx + x] -= 1;
          }
    }
  });
  applyFourierFilter(vol, measuredRegion({ axis: 'y', minDeg: -60, maxDeg: 60 }));
  return { vol, centres };
}

function comparable(r: SelfTemplateResult) {
  return {
    promptScores: Array.from(r.promptScores),
    candidateScores: Array.from(r.candidateScores),
    rotations: r.rotations.map((R) => Array.from(R)),
    average: r.average && { size: r.average.size, stride: r.average.stride, data: Buffer.from(r.average.data.buffer, r.average.data.byteOffset, r.average.data.byteLength).toString('base64') },
  };
}

async function bothWays(input: SelfTemplateInput, options: SelfTemplateOptions) {
  const progress: ProgressEvent[] = [];
  const one = await alignToSelfTemplate(input, options);
  const two = await alignToSelfTemplate(input, options, (p) => progress.push(p), 2);
  return { one: comparable(one), two: comparable(two), progress };
}

test('the alignment on two worker threads gives the scores, rotations and average of one thread, to the bit', async () => {
  const { vol, centres } = tomogram(5, 8, 21);
  const count = centres.length;
  assert.equal(alignmentWorkers(count, 2), 2, `${count} particles are aligned on 2 workers`);
  assert.equal(alignmentWorkers(count, 1), 0);
  assert.equal(alignmentWorkers(20, 2), 0, 'too few particles for workers');
  const measured = measuredRegion({ axis: 'y', minDeg: -60, maxDeg: 60 });
  // Prompted, wedge left out: every round's reference carries a coverage.
  const input: SelfTemplateInput = { tomogram: vol, prompts: centres.slice(0, 2), candidates: centres.slice(2), equivalentRadius: 5, measured };
  const wedge = await bothWays(input, { rounds: 2 });
  assert.deepEqual(wedge.two, wedge.one);
  assert.ok(wedge.one.candidateScores.some((s) => s > 0.3), 'the particles were aligned');
  const total = 2 * count;
  assert.deepEqual(wedge.progress.at(-1), { stage: 'verifying', done: total, total });
  assert.ok(wedge.progress.every((p, k) => k === 0 || p.done >= wedge.progress[k - 1].done), 'progress never goes back');
  // A saved self-template, no wedge: the reference has no coverage.
  const average = (await alignToSelfTemplate(input, { rounds: 1 })).average!;
  const saved = await bothWays({ tomogram: vol, prompts: [], candidates: centres, equivalentRadius: 5, template: average }, { rounds: 1 });
  assert.deepEqual(saved.two, saved.one);
});

test('a worker that fails to start is reported and stopped', async () => {
  await assert.rejects(AlignWorkers.start(1, {} as AlignWorkerData));
});
