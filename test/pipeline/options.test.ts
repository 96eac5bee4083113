import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { DEFAULTS } from '../../src/pipeline/defaults.js';
import { resolvePickOptions } from '../../src/pipeline/options.js';

test('pick options default from the table; bad values are CryosamErrors naming the rule', () => {
  const { options, segment } = resolvePickOptions({ segment: { negatives: [{ x: 1, y: 2, z: 3 }] } });
  assert.equal(options.topK, DEFAULTS.pick.topK);
  assert.deepEqual(options.pyramid, [...DEFAULTS.pick.pyramid]);
  assert.deepEqual(options.volumeRange, [...DEFAULTS.pick.volumeRange]);
  assert.equal(options.segment.negatives, 1, 'the report counts negatives');
  assert.equal(segment.negatives.length, 1);
  assert.equal(segment.iouThreshold, DEFAULTS.segment.iouThreshold);
  assert.throws(() => resolvePickOptions({ topK: 0 }), (e: unknown) => e instanceof CryosamError && /≥ 1/.test(e.message));
  assert.throws(() => resolvePickOptions({ pyramid: [8, 0] }), CryosamError);
  assert.throws(() => resolvePickOptions({ volumeRange: [2, 1] }), CryosamError);
});
