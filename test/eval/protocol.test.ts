// The experiments themselves (pipeline runs, ~100 s on 2 cores) are in protocol.slow.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawPrompts, meanSd, promptCount } from '../../src/eval/protocol.js';
import type { Pick } from '../../src/io/coords/pick.js';

test('prompt counts and draws: reproducible per seed, distinct particles, rounded centres', () => {
  assert.equal(promptCount('one', 40), 1);
  assert.equal(promptCount(0.05, 40), 2);
  assert.equal(promptCount(0.3, 3), 1);
  assert.equal(promptCount(0.01, 10), 1);
  assert.equal(promptCount(0.7, 0), 0);
  assert.throws(() => promptCount(1.5, 10), /ratio/);
  const points: Pick[] = Array.from({ length: 20 }, (_, i) => ({ x: i + 0.4, y: 2 * i, z: 3 }));
  const a = drawPrompts(points, 0.5, 7);
  assert.equal(a.length, 10);
  assert.deepEqual(drawPrompts(points, 0.5, 7), a);
  assert.notDeepEqual(drawPrompts(points, 0.5, 8), a);
  assert.equal(new Set(a.map((p) => p.x)).size, 10);
  for (const p of a) assert.equal(p.y, 2 * p.x);
  const sd = meanSd([1, 2, 3, 4]);
  assert.equal(sd.mean, 2.5);
  assert.ok(Math.abs(sd.sd - Math.sqrt(5 / 3)) < 1e-12);
  assert.deepEqual(meanSd([0.7]), { mean: 0.7, sd: 0 });
});
