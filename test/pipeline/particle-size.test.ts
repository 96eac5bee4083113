import assert from 'node:assert/strict';
import { test } from 'node:test';
import { equivalentRadius } from '../../src/pipeline/instance.js';
import { voteParticleSize, voterPeaks, withParticleSize } from '../../src/pipeline/particle-size.js';
import { REFERENCE_VERSION, type Reference } from '../../src/pipeline/reference.js';
import type { ParticleMask } from '../../src/pipeline/types.js';

const mask = (voxels: number): ParticleMask => ({ bbox: { z0: 0, z1: 1, y0: 0, y1: 1, x0: 0, x1: 1 }, mask: new Uint8Array(1), voxels, centroid: { x: 0, y: 0, z: 0 } });

test('the best matches outvote a prompt mask of half the particle; fragments and other things do not vote', () => {
  // One prompt segmented at half size (a click off the centre), the matches at the particle's size.
  const vote = voteParticleSize([2400], [mask(4900), mask(5100), undefined, mask(100), mask(4800), mask(50000), mask(5000)]);
  assert.deepEqual(vote.voterVoxels, [4900, 5100, 4800, 5000], 'nothing segmented, a fragment beyond 4× smaller and a blob beyond 4× larger do not vote');
  assert.equal(vote.votedVoxels, 4900, 'the median of 2400, 4800, 4900, 5000, 5100');
  assert.equal(vote.promptVoxels, 2400);
  // Without voters the prompts' own size stands; so does a size the vote confirms within √2×.
  assert.equal(voteParticleSize([3000, 5000], []).votedVoxels, 4000);
  assert.equal(voteParticleSize([4000], [mask(5500), mask(5600), mask(5500)]).votedVoxels, 4000, '5500 is within √2× of 4000');
  assert.equal(voteParticleSize([3800], [mask(5500), mask(5600), mask(5500)]).votedVoxels, 5500, '5500 is beyond √2× of 3800');
});

test('voters are the best peaks that are not the prompts themselves; the voted size resizes the reference', () => {
  const peaks = [{ x: 10, y: 10, z: 10, score: 0.9 }, { x: 40, y: 10, z: 10, score: 0.8 }, { x: 11, y: 12, z: 10, score: 0.7 }, { x: 70, y: 10, z: 10, score: 0.6 }];
  assert.deepEqual(voterPeaks(peaks, [{ centroid: { x: 10, y: 10, z: 10 } }], 5, 1).map((p) => p.x), [40]);
  assert.deepEqual(voterPeaks(peaks, [{ centroid: { x: 10, y: 10, z: 10 } }], 5, 9).map((p) => p.x), [40, 70]);
  const ref = { version: REFERENCE_VERSION, particle: { meanVoxels: 100, equivalentRadius: equivalentRadius(100), polarity: -1 } } as Reference;
  const resized = withParticleSize(ref, 800);
  assert.deepEqual(resized.particle, { meanVoxels: 800, equivalentRadius: equivalentRadius(800), polarity: -1 });
  assert.equal(ref.particle.meanVoxels, 100, 'the given reference is left as it was');
});
