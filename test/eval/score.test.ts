import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scorePicks, scorePicksByClass, combineScores } from '../../src/eval/score.js';
import { optimalAssignment } from '../../src/eval/assign.js';
import type { Pick } from '../../src/io/coords/pick.js';

const p = (x: number, y: number, z: number, className?: string): Pick => ({ x, y, z, className });

test('exact matches score 1 with zero distance', () => {
  const truth = [p(1, 2, 3), p(10, 10, 10), p(20, 5, 7)];
  const s = scorePicks([...truth].reverse(), truth, 2);
  assert.equal(s.tp, 3);
  assert.equal(s.fp, 0);
  assert.equal(s.fn, 0);
  assert.equal(s.f1, 1);
  assert.equal(s.meanDistance, 0);
  assert.deepEqual(s.matches, [[0, 2], [1, 1], [2, 0]]);
});

test('optimal assignment beats greedy nearest-first matching', () => {
  // Pick 0 is nearest to particle 0 but also reaches particle 1; pick 1 only reaches particle 0.
  // Greedy (shortest pair first) matches 0–0 and leaves pick 1 alone: 1 match. Optimal: 0–1, 1–0.
  const truth = [p(0, 0, 0), p(4, 0, 0)];
  const picks = [p(1, 0, 0), p(-3, 0, 0)];
  const s = scorePicks(picks, truth, 3.5);
  assert.equal(s.tp, 2);
  assert.deepEqual(s.matches, [[0, 1], [1, 0]]);
  assert.equal(s.meanDistance, 3);
});

test('among maximum matchings the smallest total distance wins', () => {
  const truth = [p(0, 0, 0), p(10, 0, 0)];
  const picks = [p(9, 0, 0), p(1, 0, 0)];
  const s = scorePicks(picks, truth, 20);
  assert.deepEqual(s.matches, [[0, 1], [1, 0]]);
  assert.equal(s.meanDistance, 1);
});

test('distance cut-off is inclusive and counts misses both ways', () => {
  const truth = [p(0, 0, 0), p(50, 50, 50)];
  const picks = [p(3, 4, 0), p(50, 50, 55.01), p(90, 90, 90)];
  const s = scorePicks(picks, truth, 5);
  assert.equal(s.tp, 1);
  assert.equal(s.fp, 2);
  assert.equal(s.fn, 1);
  assert.equal(s.precision, 1 / 3);
  assert.equal(s.recall, 1 / 2);
  assert.equal(s.f1, 2 / 5);
  assert.equal(s.meanDistance, 5);
  assert.throws(() => scorePicks(picks, truth, -1), /distance/);
});

test('empty inputs follow the documented conventions', () => {
  const both = scorePicks([], [], 3);
  assert.deepEqual([both.precision, both.recall, both.f1], [1, 1, 1]);
  assert.ok(Number.isNaN(both.meanDistance));
  const noPicks = scorePicks([], [p(1, 1, 1)], 3);
  assert.deepEqual([noPicks.tp, noPicks.fn, noPicks.precision, noPicks.recall, noPicks.f1], [0, 1, 1, 0, 0]);
  const noTruth = scorePicks([p(1, 1, 1)], [], 3);
  assert.deepEqual([noTruth.fp, noTruth.precision, noTruth.recall, noTruth.f1], [1, 0, 1, 0]);
});

test('per class: picks only match their own class, each with its radius', () => {
  const truth = [p(0, 0, 0, 'ribo'), p(30, 0, 0, 'ribo'), p(60, 0, 0, 'prot')];
  const picks = [p(1, 0, 0, 'prot'), p(36, 0, 0, 'ribo'), p(62, 0, 0, 'prot'), p(0, 0, 0, 'ribo')];
  const byClass = scorePicksByClass(picks, truth, { ribo: 8, prot: 3 });
  assert.deepEqual(Object.keys(byClass), ['prot', 'ribo']);
  assert.deepEqual([byClass.ribo.tp, byClass.ribo.fp, byClass.ribo.fn], [2, 0, 0]);
  assert.deepEqual(byClass.ribo.matches, [[1, 1], [3, 0]]);
  assert.deepEqual([byClass.prot.tp, byClass.prot.fp, byClass.prot.fn], [1, 1, 0]);
  assert.deepEqual(byClass.prot.matches, [[2, 2]]);
  const tight = scorePicksByClass(picks, truth, 5);
  assert.equal(tight.ribo.tp, 1);
  const all = combineScores(Object.values(byClass));
  assert.deepEqual([all.tp, all.fp, all.fn], [3, 1, 0]);
  assert.equal(all.f1, 6 / 7);
  assert.throws(() => scorePicksByClass(picks, truth, { ribo: 8 }), /class 'prot'/);
});

/** Best (count, total cost) over all matchings, by exhaustive search. */
function bruteForce(n: number, m: number, cost: number[][]): [number, number] {
  let best: [number, number] = [0, 0];
  const usedRight = new Array<boolean>(m).fill(false);
  const visit = (i: number, count: number, total: number) => {
    if (i === n) {
      if (count > best[0] || (count === best[0] && total < best[1] - 1e-9)) best = [count, total];
      return;
    }
    visit(i + 1, count, total);
    for (let j = 0; j < m; j++) {
      if (usedRight[j] || !Number.isFinite(cost[i][j])) continue;
      usedRight[j] = true;
      visit(i + 1, count + 1, total + cost[i][j]);
      usedRight[j] = false;
    }
  };
  visit(0, 0, 0);
  return best;
}

test('assignment equals brute force on random small cases', () => {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let trial = 0; trial < 400; trial++) {
    const n = 1 + Math.floor(random() * 6);
    const m = 1 + Math.floor(random() * 6);
    const cost: number[][] = [];
    const left: number[] = [];
    const right: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < n; i++) {
      cost.push([]);
      for (let j = 0; j < m; j++) {
        const within = random() < 0.45;
        // Small integer costs create ties, the hard case for potentials.
        const value = within ? Math.floor(random() * 5) + (trial % 2 ? random() : 0) : Infinity;
        cost[i].push(value);
        if (within) {
          left.push(i);
          right.push(j);
          c.push(value);
        }
      }
    }
    const matches = optimalAssignment(n, m, {
      left: Int32Array.from(left),
      right: Int32Array.from(right),
      cost: Float64Array.from(c),
    });
    assert.equal(new Set(matches.map(([, j]) => j)).size, matches.length, 'one-to-one');
    const total = matches.reduce((sum, [i, j]) => sum + cost[i][j], 0);
    const [bestCount, bestTotal] = bruteForce(n, m, cost);
    assert.equal(matches.length, bestCount, `trial ${trial}: match count`);
    assert.ok(Math.abs(total - bestTotal) < 1e-9, `trial ${trial}: total ${total} vs ${bestTotal}`);
  }
});

test('10k × 10k picks score quickly', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const truth: Pick[] = [];
  const picks: Pick[] = [];
  for (let i = 0; i < 10000; i++) {
    const t = p(random() * 1000, random() * 1000, random() * 200);
    truth.push(t);
    picks.push(p(t.x + random() * 4 - 2, t.y + random() * 4 - 2, t.z + random() * 4 - 2));
  }
  const started = performance.now();
  const s = scorePicks(picks, truth, 8);
  const seconds = (performance.now() - started) / 1000;
  assert.ok(s.tp >= 9990, `tp ${s.tp}`);
  assert.ok(seconds < 5, `took ${seconds} s`);
});
