import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { CryoSam } from '../../src/pipeline/cryosam.js';
import { instancesToLabels, instancesToSemantic } from '../../src/pipeline/labels.js';
import type { PickOptions, PickResult, VoxelPoint } from '../../src/pipeline/types.js';
import type { Volume } from '../../src/volume/volume.js';
import { scatter, synthetic, type Particle } from './synthetic.js';
import { ToyFeatures, ToySegmenter } from './toy-engines.js';

const toyEngines = () => ({ segmenter: new ToySegmenter(), features: new ToyFeatures() });
const copy = (v: Volume): Volume => ({ ...v, data: v.data.slice() });

/** Picks matched one-to-one (greedily) to particles within `tol` voxels. */
function matched(result: PickResult, truth: VoxelPoint[], tol: number): number {
  const used = new Set<number>();
  let n = 0;
  for (const p of result.picks) {
    const k = truth.findIndex((t, i) => !used.has(i) && Math.hypot(p.x - t.x, p.y - t.y, p.z - t.z) <= tol);
    if (k >= 0) {
      used.add(k);
      n++;
    }
  }
  return n;
}

const easyShape = [40, 56, 56] as const;
function easyVolume(): { vol: Volume; particles: Particle[] } {
  const particles = scatter(easyShape, 16, 10, ['sphere'], 2);
  return { vol: synthetic(easyShape, particles, { radius: 4, contrast: 3, seed: 8 }).volume, particles };
}

test('pick finds every sphere of an easy volume; naive and hierarchical matching give the same picks', async () => {
  const { vol, particles } = easyVolume();
  const results: PickResult[] = [];
  for (const matching of ['hierarchical', 'naive'] as const) {
    const sam = await CryoSam.create(copy(vol), { engines: toyEngines(), cacheDir: false });
    // A fixed number of proposals, no template cut: this compares the matching modes alone.
    results.push(await sam.pick([particles[0]], { matching, pyramid: [8, 4], featureSliceStep: 2, topK: 64 }));
    await sam.dispose();
  }
  const [hier, naive] = results;
  assert.equal(matched(hier, particles, 2), particles.length, 'hierarchical recall');
  assert.equal(hier.picks.length, particles.length, 'no extra picks');
  assert.equal(naive.picks.length, hier.picks.length);
  for (const p of hier.picks) assert.ok(naive.picks.some((q) => Math.hypot(p.x - q.x, p.y - q.y, p.z - q.z) <= 2));
  // The prompt is part of the result, with score 1.
  assert.equal(hier.picks.filter((p) => p.score === 1).length, 1);
  assert.ok(hier.instances[0].prompted);
  // Report: one encoder pass per encoded slice, stages timed, picks carry volumes.
  assert.deepEqual(hier.report.encoderPasses, { z: 20, y: 28, x: 28 });
  assert.deepEqual(hier.report.stages.map((s) => s.name).filter((n) => n !== 'matching (voted size)'), ['segment prompts', 'features', 'query', 'matching', 'particle size', 'segment proposals']);
  // The best matches voted the particle's size with the prompt: every sphere here is the same size.
  const size = hier.report.particleSize!;
  assert.ok(size.voterVoxels.length >= 8, `${size.voterVoxels.length} voters`);
  assert.ok(size.voterVoxels.every((v) => Math.abs(v / size.votedVoxels - 1) < 0.5), `voters ${size.voterVoxels}, voted ${size.votedVoxels}`);
  assert.equal(hier.report.picks, hier.picks.length);
  assert.ok(hier.picks.every((p) => p.voxels > 50 && Math.abs(p.volumeNm3 - p.voxels) < 1e-6), 'voxel size 10 Å: 1 nm³ per voxel');
});

test('a second run on the same tomogram reuses cached features and embeddings, with identical results', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-pick-cache-'));
  try {
    const { vol, particles } = easyVolume();
    const run = async (prompt: VoxelPoint) => {
      const sam = await CryoSam.create(copy(vol), { engines: toyEngines(), cacheDir: dir });
      const r = await sam.pick([prompt], { topK: 10, featureSliceStep: 2, pyramid: [8, 4] });
      await sam.dispose();
      return r;
    };
    const first = await run(particles[0]);
    assert.deepEqual(first.report.cacheHits, { features: 0, embeddings: 0 });
    const second = await run(particles[0]);
    assert.equal(second.report.cacheHits.features, 3);
    assert.ok(second.report.cacheHits.embeddings > 0);
    assert.deepEqual(second.report.encoderPasses, { z: 0, y: 0, x: 0 });
    assert.equal(second.report.segmenterEmbeddings, 0);
    assert.deepEqual(second.picks, first.picks);
    // Other prompts on the same tomogram still reuse the feature grids.
    const third = await run(particles[3]);
    assert.equal(third.report.cacheHits.features, 3);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a session for particles only smooths in place, picks as a full one does, and refuses filaments and membranes', async () => {
  const { vol, particles } = easyVolume();
  const options: PickOptions = { pyramid: [8, 4], featureSliceStep: 2, topK: 64 };
  const full = await CryoSam.create(copy(vol), { engines: toyEngines(), cacheDir: false });
  const mine = copy(vol);
  const lean = await CryoSam.create(mine, { engines: toyEngines(), cacheDir: false, normalizeInPlace: true, structures: false });
  try {
    assert.equal(lean.tomogram.data, mine.data, 'one copy: the caller\'s array, normalised and smoothed');
    assert.deepEqual(lean.tomogram.data, full.tomogram.data);
    assert.deepEqual((await lean.pick([particles[0]], options)).picks, (await full.pick([particles[0]], options)).picks);
    await assert.rejects(lean.segmentStructure(particles[1]), (e: Error) => e instanceof CryosamError && /particles only/.test(e.message));
    full.particlesOnly();
    await assert.rejects(full.pickStructures(particles[1]), (e: Error) => e instanceof CryosamError && /particles only/.test(e.message));
  } finally {
    await full.dispose();
    await lean.dispose();
  }
});

test('labels and semantic volumes paint every instance; bad prompts are CryosamErrors', async () => {
  const { vol, particles } = easyVolume();
  const sam = await CryoSam.create(copy(vol), { engines: toyEngines(), cacheDir: false });
  const a = await sam.segment(particles[0]);
  const b = { ...(await sam.segment(particles[1])), id: 2 };
  const labels = instancesToLabels(easyShape, [a, b]);
  const semantic = instancesToSemantic(easyShape, [a, b]);
  const count = (arr: ArrayLike<number>, v: number) => Array.prototype.filter.call(arr, (x: number) => x === v).length;
  assert.equal(count(labels.data, 1), a.voxels);
  assert.equal(count(labels.data, 2), b.voxels);
  assert.equal(count(semantic.data, 1), a.voxels + b.voxels);
  await assert.rejects(sam.segment({ x: 56, y: 3, z: 3 }), CryosamError);
  await assert.rejects(sam.pick([]), CryosamError);
  await assert.rejects(sam.pick([particles[0]], { topK: -1 }), CryosamError);
  await sam.dispose();
});

test('prompting a sphere ranks spheres above rods of the same extent (classical engine)', async () => {
  const shape = [56, 72, 72] as const;
  const particles = scatter(shape, 22, 10, ['sphere', 'rod'], 3);
  const { volume } = synthetic(shape, particles, { radius: 5, contrast: 2, seed: 5 });
  const spheres = particles.filter((p) => p.kind === 'sphere');
  const rods = particles.filter((p) => p.kind === 'rod');
  const sam = await CryoSam.create(volume, { cacheDir: false });
  try {
    // As many proposals as there are spheres: the ranking must put the spheres first.
    const result = await sam.pick([spheres[0]], { topK: spheres.length });
    const hitSpheres = matched(result, spheres, 4);
    const hitRods = matched(result, rods, 4);
    const precision = hitSpheres / result.picks.length;
    const recall = hitSpheres / spheres.length;
    assert.ok(precision >= 0.8 && recall >= 0.8, `precision ${precision.toFixed(2)}, recall ${recall.toFixed(2)}, rods picked ${hitRods}`);
    assert.ok(hitRods <= 1, `rods picked: ${hitRods}`);
    // With the automatic cut, every particle (of either shape) is kept and the background is not.
    const auto = await sam.pick([spheres[0]], { topK: 'auto' });
    assert.ok(matched(auto, spheres, 4) >= spheres.length - 1);
    assert.ok(auto.picks.length <= particles.length + 3, `${auto.picks.length} picks for ${particles.length} particles`);
    // The written score is what the cut ranked: the template correlation after the template cut, the
    // proposal's similarity with a fixed number of proposals.
    for (const p of auto.picks) {
      assert.ok(p.templateCorrelation !== undefined && p.score === p.templateCorrelation && p.score <= 1, `score ${p.score}, correlation ${p.templateCorrelation}`);
    }
    assert.ok(auto.picks.some((p) => p.score !== p.similarity));
    for (const p of result.picks) assert.equal(p.score, p.similarity);
    // The stages of the automatic count, and the self-template the cut refined, in the returned reference.
    assert.deepEqual(auto.report.stages.map((s) => s.name).filter((n) => n !== 'matching (voted size)' && n !== 'start workers'), ['segment prompts', 'features', 'query', 'matching', 'particle size', 'segment proposals', 'verify and cut', 'split look-alikes', 'masks from average']);
    // Masks: drawn from the average after the cut (a sphere's volume, the same for every sphere), segmented without it.
    assert.equal(auto.report.masks, 'average');
    assert.equal(result.report.masks, 'segmented');
    const ball = (4 / 3) * Math.PI * 5 ** 3;
    const volumes = auto.instances.map((inst) => inst.voxels).sort((a, b) => a - b);
    const median = volumes[Math.floor(volumes.length / 2)];
    assert.ok(median > 0.6 * ball && median < 1.8 * ball, `median mask ${median} voxels, sphere ${ball.toFixed(0)}`);
    assert.deepEqual(auto.picks.map((p) => p.voxels), auto.instances.map((inst) => inst.voxels), 'a pick\'s volume is its final mask\'s');
    const avg = auto.reference.average;
    assert.ok(avg && avg.data.length === avg.size ** 3 && avg.data.some((v) => v !== 0), 'a self-template average');
    assert.equal(avg.voxelSizeA, avg.size > 0 ? 10 * (avg.voxelSizeA / 10) : 0);
  } finally {
    await sam.dispose();
  }
});
