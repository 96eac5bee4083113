import assert from 'node:assert/strict';
import { test } from 'node:test';
import { equivalentRadius } from '../../src/pipeline/instance.js';
import { mergeReferences } from '../../src/pipeline/reference-merge.js';
import { REFERENCE_VERSION, type Reference } from '../../src/pipeline/reference.js';

const engines = { segmenter: { name: 'seg', params: {} }, features: { name: 'feat', params: { a: 1 } } };

function reference(sha: string, prompts: number, meanVoxels: number, polarity: -1 | 1, vector: number[], over: Partial<Reference> = {}): Reference {
  return {
    version: REFERENCE_VERSION, engines, voxelSizeA: 10, featureSliceStep: 4,
    query: { mode: 'mean', vectors: [Float32Array.from(vector)] },
    particle: { meanVoxels, equivalentRadius: equivalentRadius(meanVoxels), polarity },
    sources: [{ tomogramSha256: sha, prompts: Array.from({ length: prompts }, (_, i) => ({ x: i, y: 0, z: 0 })) }],
    prompted: [],
    ...over,
  };
}

test('a merged reference pools the prompts of every tomogram: query weighted by prompted voxels, mean size, majority contrast, every source', () => {
  const a = reference('a', 1, 1000, -1, [1, 0]);
  const b = reference('b', 3, 2000, -1, [0, 1]);
  const c = reference('c', 1, 3000, 1, [0, 1]);
  const merged = mergeReferences([{ name: 'A', reference: a }, { name: 'B', reference: b }, { name: 'C', reference: c }]);
  assert.deepEqual(merged.sources.map((s) => s.tomogramSha256), ['a', 'b', 'c']);
  assert.equal(merged.particle.meanVoxels, (1000 + 3 * 2000 + 3000) / 5);
  assert.equal(merged.particle.equivalentRadius, equivalentRadius(2000));
  assert.equal(merged.particle.polarity, -1, 'four dark prompts outvote one bright');
  // Σ prompts·voxels·q: (1000, 6000 + 3000) → unit vector along (1, 9).
  const [q] = merged.query.vectors;
  assert.equal(merged.query.vectors.length, 1);
  assert.ok(Math.abs(q[0] - 1 / Math.hypot(1, 9)) < 1e-6 && Math.abs(q[1] - 9 / Math.hypot(1, 9)) < 1e-6, `query ${Array.from(q)}`);
  assert.equal(merged.average, undefined, 'averages are made by the picks of referenceFromTomograms');

  const perPrompt = (r: Reference) => ({ ...r, query: { mode: 'per-prompt' as const, vectors: r.query.vectors } });
  assert.equal(mergeReferences([{ name: 'A', reference: perPrompt(a) }, { name: 'B', reference: perPrompt(b) }]).query.vectors.length, 2, 'per-prompt queries are all kept');
});

test('references that cannot be merged are refused, naming the tomogram', () => {
  const a = reference('a', 1, 1000, -1, [1, 0]);
  const cases: [Partial<Reference>, RegExp][] = [
    [{ engines: { ...engines, features: { name: 'feat', params: { a: 2 } } } }, /other engines/],
    [{ voxelSizeA: 13 }, /voxel size 13 Å differs from A's 10 Å/],
    [{ featureSliceStep: 2 }, /feature step 2/],
  ];
  for (const [over, problem] of cases) {
    assert.throws(() => mergeReferences([{ name: 'A', reference: a }, { name: 'B', reference: reference('b', 1, 1000, -1, [1, 0], over) }]), (err: Error) => problem.test(err.message) && err.message.startsWith('B:'));
  }
  assert.doesNotThrow(() => mergeReferences([{ name: 'A', reference: a }, { name: 'B', reference: reference('b', 1, 1000, -1, [1, 0], { voxelSizeA: 10.1 }) }]), 'within 2%');
  assert.throws(() => mergeReferences([]), /no reference/);
});
