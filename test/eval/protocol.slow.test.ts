// Slow (npm run test:all): the protocol's experiments run the whole pipeline many times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  annotationRatio,
  featureAblation,
  matchingAblation,
  offCentreClicks,
  proposalCurve,
  queryAblation,
  wedgeAblation,
  type EvalTarget,
} from '../../src/eval/protocol.js';
import { CryoSam } from '../../src/pipeline/cryosam.js';
import type { Pick } from '../../src/io/coords/pick.js';
import { scatter, synthetic } from '../pipeline/synthetic.js';

const shape = [40, 64, 64] as const;
const particles = scatter(shape, 16, 10, ['sphere'], 3);
const truth: Pick[] = particles.map((p) => ({ x: p.x, y: p.y, z: p.z }));

/** A fresh tiny tomogram of clearly visible dark spheres (CryoSam normalises its tomogram in place). */
function target(): EvalTarget {
  return { tomogram: synthetic(shape, particles, { radius: 4, contrast: 3, seed: 5 }).volume, truth, radiusVoxels: 4 };
}

test('annotation ratio, matching and proposal experiments on a tiny synthetic tomogram', async () => {
  const t = target();
  const n = truth.length;
  const session = await CryoSam.create(t.tomogram, { cacheDir: false });
  try {
    const { rows } = await annotationRatio(t, { session, ratios: ['one', 0.5], seeds: [1, 2] });
    assert.deepEqual(rows.map((r) => [r.ratio, r.prompts, r.runs.length]), [['one', 1, 2], [0.5, Math.round(n / 2), 2]]);
    for (const row of rows) {
      for (const run of row.runs) {
        assert.equal(run.tp + run.fn, n);
        assert.equal(run.tp + run.fp, run.picks);
        // Prompted particles are part of the result: they are found.
        assert.ok(run.tp >= run.prompts, `tp ${run.tp} < prompts ${run.prompts}`);
      }
      assert.equal(row.f1.mean, (row.runs[0].f1 + row.runs[1].f1) / 2);
    }
    // Clear, identical spheres: half of them prompted finds nearly all. A sphere has no shape for the
    // self-template to tell apart from sphere-sized noise blobs, so precision is the weaker side.
    assert.ok(rows[1].recall.mean >= 0.9, `recall at 50% ${rows[1].recall.mean}`);
    assert.ok(rows[1].f1.mean >= 0.75, `F1 at 50% ${rows[1].f1.mean}`);

    const matching = await matchingAblation(t, { session, seeds: [1] });
    assert.deepEqual(matching.rows.map((r) => r.matching), ['hierarchical', 'naive']);
    for (const r of matching.rows) assert.ok(r.matchingSeconds.mean > 0 && r.f1.mean > 0);
    assert.ok(Number.isFinite(matching.naiveOverHierarchical));

    const queries = await queryAblation(t, { session, seeds: [1], ratio: 0.5 });
    assert.deepEqual(queries.rows.map((r) => [r.query, r.runs[0].prompts]), [['mean', n / 2], ['per-prompt', n / 2], ['centre', n / 2]]);
    // Every query finds the clear spheres.
    for (const r of queries.rows) assert.ok(r.recall.mean >= 0.9, `${r.query}: recall ${r.recall.mean}`);

    // The synthetic tomogram has no missing wedge: auto finds none and compares as 'none' does.
    const wedge = await wedgeAblation(t, { session, seeds: [1] });
    assert.deepEqual(wedge.rows.map((r) => r.tiltRange), ['auto', 'none']);
    assert.deepEqual(wedge.rows[0].runs.map((r) => [r.tp, r.fp]), wedge.rows[1].runs.map((r) => [r.tp, r.fp]));

    // K counts proposals besides the prompts, at least 1 (the library's one topK rule).
    const { points } = await proposalCurve(t, { session, ks: [1, 2, n] });
    assert.deepEqual(points.map((p) => p.k), [1, 2, n]);
    // K = 1: the prompted particle itself and at most one more.
    assert.ok(points[0].picks >= 1 && points[0].picks <= 2, `${points[0].picks} picks at K = 1`);
    assert.ok(points[0].recall >= 1 / n && points[0].recall <= 2 / n, `recall ${points[0].recall} at K = 1`);
    for (const p of points) assert.ok(p.picks <= p.k + 1);
    assert.ok(points[2].recall >= points[0].recall);
  } finally {
    await session.dispose();
  }
});

test('off-centre clicks: the same particle and direction at every distance; F1 and the clicked mask\'s Dice against the truth', async () => {
  const s = synthetic(shape, particles, { radius: 4, contrast: 3, seed: 5 });
  const t = { tomogram: s.volume, truth, radiusVoxels: 4, instances: s.labels };
  const session = await CryoSam.create(t.tomogram, { cacheDir: false });
  try {
    const { rows, sphereDice } = await offCentreClicks(t, { session, fractions: [0, 0.5], seeds: [1, 2] });
    assert.deepEqual(rows.map((r) => [r.fraction, r.runs.length]), [[0, 2], [0.5, 2]]);
    for (const [k, run] of rows[1].runs.entries()) {
      const centred = rows[0].runs[k];
      assert.deepEqual(run.particle, centred.particle, 'the same particle at every distance');
      const off = Math.hypot(run.click.x - run.particle.x, run.click.y - run.particle.y, run.click.z - run.particle.z);
      assert.ok(off >= 2 - 0.9 && off <= 2 + 0.9, `click ${off.toFixed(2)} voxels off, asked 2`);
    }
    for (const row of rows) {
      assert.equal(row.worstF1, Math.min(...row.runs.map((r) => r.f1)));
      // Clear spheres: the clicked one is segmented (a mask that overlaps the truth), and most are found.
      for (const run of row.runs) assert.ok(run.promptDice > 0.3 && run.promptDice <= 1, `prompt Dice ${run.promptDice}`);
      // Most spheres found and segmented: the union of the masks overlaps the union of the truth.
      for (const run of row.runs) assert.ok(run.semanticDice > 0.5 && run.semanticDice <= 1, `semantic Dice ${run.semanticDice}`);
      assert.ok(row.recall.mean >= 0.8, `recall ${row.recall.mean} at ${row.fraction} radii`);
    }
    // A sphere of the true volume at the true centre of a sphere: nearly the particle itself.
    assert.ok(sphereDice.mean > 0.85 && sphereDice.mean <= 1, `sphere Dice ${sphereDice.mean}`);
  } finally {
    await session.dispose();
  }
});

test('feature ablation runs each engine and reports the ones that cannot be created', async () => {
  const { rows } = await featureAblation(target(), {
    engines: [{ engine: 'classical' }, { engine: 'no-such-model' }],
    seeds: [1],
    cacheDir: false,
  });
  assert.equal(rows.length, 2);
  assert.equal(rows[0].engine, 'classical');
  assert.ok(rows[0].result && rows[0].result.runs.length === 1);
  assert.equal(rows[1].engine, 'no-such-model');
  assert.equal(rows[1].result, undefined);
  assert.match(rows[1].skipped ?? '', /no-such-model/);
});
