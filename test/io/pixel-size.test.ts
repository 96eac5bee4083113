import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { parsePicks, readPicks } from '../../src/io/coords/index.js';
import { requireVoxelSize } from '../../src/io/mrc/index.js';
import { isPlausiblePixelSize, PIXEL_SIZE_RANGE } from '../../src/io/pixel-size.js';

/** Pixel sizes read from files must be plausible, or every coordinate scaled by them lands at the origin (or at infinity). */

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-pixel-size-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A RELION 4 particles file whose optics group 1 has rlnTomoTiltSeriesPixelSize `size` (on line 5). */
const relion4 = (size: string) =>
  [
    'data_optics',
    'loop_',
    '_rlnOpticsGroup',
    '_rlnTomoTiltSeriesPixelSize',
    `1 ${size}`,
    '',
    'data_particles',
    'loop_',
    '_rlnTomoName',
    '_rlnCoordinateX',
    '_rlnCoordinateY',
    '_rlnCoordinateZ',
    '_rlnOpticsGroup',
    'TS_1 10 20 30 1',
    '',
  ].join('\n');

test('the plausible range is documented in one place: more than 0.1 Å, at most 1000 Å, finite', () => {
  assert.deepEqual(PIXEL_SIZE_RANGE, { min: 0.1, max: 1000 });
  for (const ok of [0.1001, 0.5, 1.667, 13.1, 125, 1000]) assert.ok(isPlausiblePixelSize(ok), String(ok));
  for (const bad of [0, -1, 0.1, 1e-300, 1000.5, 1e300, NaN, Infinity, -Infinity]) assert.ok(!isPlausiblePixelSize(bad), String(bad));
});

test('an optics rlnTomoTiltSeriesPixelSize of 0, negative, tiny or huge is refused naming the file, line and column', async () => {
  for (const size of ['0', '-1.5', '1e-300', '0.05', '5000', '1e309']) {
    assert.throws(
      () => parsePicks(relion4(size), { voxelSize: 10 }, { format: 'relion4', file: 'p.star' }),
      (err: unknown) => {
        assert.ok(err instanceof CryosamError, `${size}: ${String(err)}`);
        assert.equal(
          err.message,
          `p.star: line 5: rlnTomoTiltSeriesPixelSize ${size} is not a usable pixel size: it must be more than 0.1 Å and at most 1000 Å`,
        );
        return true;
      },
    );
  }
  assert.throws(() => parsePicks(relion4('nan'), { voxelSize: 10 }, { format: 'relion4', file: 'p.star' }), /p\.star: line 5: rlnTomoTiltSeriesPixelSize "nan" is not a number/);
  const file = path.join(dir, 'zero.star');
  await fs.writeFile(file, relion4('0'));
  await assert.rejects(readPicks(file, { voxelSize: 10 }), (err: unknown) => err instanceof CryosamError && err.message.startsWith(`${file}: line 5: rlnTomoTiltSeriesPixelSize 0 `));
});

test('a plausible optics pixel size still scales the coordinates', () => {
  const [pick] = parsePicks(relion4('2.5'), { voxelSize: 10 }, { format: 'relion4', file: 'p.star' });
  assert.deepEqual([pick.x, pick.y, pick.z], [2.5, 5, 7.5]);
});

test('requireVoxelSize refuses header voxel sizes no tomogram has, and infinite overrides', () => {
  for (const v of [1e-20, 0.05, 5000]) {
    assert.throws(() => requireVoxelSize({ x: v, y: v, z: v }, 'tomo.mrc'), (err: unknown) => {
      assert.ok(err instanceof CryosamError);
      assert.match(err.message, /^tomo\.mrc: voxel size is .* in the header, which is not usable: a voxel size must be more than 0\.1 Å and at most 1000 Å; give the voxel size in Å \(e\.g\. --voxel-size\)$/);
      return true;
    });
  }
  assert.deepEqual(requireVoxelSize({ x: 1e-20, y: 1e-20, z: 1e-20 }, 'tomo.mrc', 8), { x: 8, y: 8, z: 8 });
  assert.deepEqual(requireVoxelSize({ x: 13.48, y: 13.48, z: 13.48 }, 'tomo.mrc'), { x: 13.48, y: 13.48, z: 13.48 });
  assert.throws(() => requireVoxelSize({ x: 10, y: 10, z: 10 }, 'tomo.mrc', Infinity), /voxel size must be a positive number of Å, got Infinity/);
});
