import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { checkPicksInside, detectFormat, type Pick, readPicks } from '../../src/io/coords/index.js';
import { sharedDir } from '../../src/paths.js';

const fixtures = path.join(sharedDir(), 'data', 'fixtures', 'cryoet_portal_backend');
const fixture = (name: string) => path.join(fixtures, `20002__annotations__${name}`);
const toy = (name: string) => path.join(sharedDir(), 'data', 'tomodrgn_toy96', name);

function assertNear(actual: Pick, expected: [number, number, number], what: string): void {
  const got = [actual.x, actual.y, actual.z];
  got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${what}: got ${got.join(',')}, expected ${expected.join(',')}`));
}

test('detects every fixture format from extension and content', () => {
  const expected: Record<string, string> = {
    'points.csv': 'csv',
    'points_tab_delim.csv': 'csv',
    'points_with_header.csv': 'csv',
    'points_with_header_pipe_delim.csv': 'csv',
    'tardis.csv': 'tardis',
    'relion_3_star.star': 'relion3',
    'relion_4_star.star': 'relion4',
    'stopgap_star.star': 'stopgap',
    'tomoman_relion_star.star': 'tomoman',
    'copick.json': 'copick',
    'copick_instance.json': 'copick',
    'points.mod': 'imod',
  };
  for (const [name, format] of Object.entries(expected)) {
    assert.equal(detectFormat(fixture(name), readFileSync(fixture(name), 'latin1')), format, name);
  }
  // Without an extension, the content alone decides.
  assert.equal(detectFormat('picks', readFileSync(fixture('relion_4_star.star'), 'utf8')), 'relion4');
  assert.equal(detectFormat('picks', '{"type":"point","location":{"x":1,"y":2,"z":3}}\n'), 'ndjson');
});

test('CSV variants: comma, tab, header, pipe; all the same three voxel positions', async () => {
  for (const name of ['points.csv', 'points_tab_delim.csv', 'points_with_header.csv', 'points_with_header_pipe_delim.csv']) {
    const picks = await readPicks(fixture(name), { voxelSize: 10 });
    assert.equal(picks.length, 3, name);
    // Positions are voxels: the voxel size plays no part.
    assertNear(picks[0], [1, 2, 3], name);
    assertNear(picks[1], [2, 2, 2], name);
    assertNear(picks[2], [0, 3, 0], name);
  }
});

test('TARDIS CSV: instance ids and Å positions ("X [A]")', async () => {
  const picks = await readPicks(fixture('tardis.csv'), { voxelSize: 2 });
  assert.equal(picks.length, 6);
  assert.deepEqual(picks.map((p) => p.instanceId), [0, 0, 1, 1, 1, 2]);
  assertNear(picks[0], [2, 4, 6], 'first row 4,8,12 Å at 2 Å/voxel');
  assertNear(picks[5], [1.5, 1, 0.5], 'last row 3,2,1 Å');
});

test('RELION 3 STAR: coordinates minus rlnOriginX/Y/Z, tomograms in rlnMicrographName', async () => {
  const picks = await readPicks(fixture('relion_3_star.star'), { voxelSize: 1 });
  assert.equal(picks.length, 6);
  assertNear(picks[0], [4 + 1.2, 8 + 2.4, 12 + 3.2], 'row 1');
  assert.equal(picks[0].tomoName, 'tomo_1.tomostar');
  assert.equal(picks[0].className, '1');
  const tomo3 = await readPicks(fixture('relion_3_star.star'), { voxelSize: 1 }, { tomoName: 'tomo_3' });
  assert.equal(tomo3.length, 1);
  assertNear(tomo3[0], [3 - 2, 2 - 2, 1 - 2], 'tomo_3');
  assert.equal((await readPicks(fixture('relion_3_star.star'), { voxelSize: 1 }, { tomoName: 'tomo_2.tomostar' })).length, 3);
});

test('RELION 4 STAR: rlnOriginXAngst shifts, rlnTomoName, coordinate pixel size', async () => {
  const picks = await readPicks(fixture('relion_4_star.star'), { voxelSize: 1 });
  assert.equal(picks.length, 6);
  assertNear(picks[0], [5.2, 10.4, 15.2], 'row 1');
  assert.deepEqual([...new Set(picks.map((p) => p.tomoName))], ['TS_001', 'TS_002', 'TS_003']);
  // Tilt-series pixels of 2 Å, tomogram binned to 4 Å: (coordinate × 2 − origin Å) / 4.
  const binned = await readPicks(fixture('relion_4_star.star'), { voxelSize: 4, coordinatePixelSize: 2 }, { tomoName: 'TS_002' });
  assert.equal(binned.length, 3);
  assertNear(binned[0], [(6 * 2 + 1) / 4, (4 * 2 + 2) / 4, (2 * 2 + 3) / 4], 'TS_002 row 1');
});

test('STOPGAP STAR: orig + shift, numbered tomograms, score and subtomogram number', async () => {
  const picks = await readPicks(fixture('stopgap_star.star'), { voxelSize: 1 });
  assert.equal(picks.length, 6);
  assertNear(picks[0], [4 - 1.2, 8 - 2.4, 12 - 3.2], 'row 1');
  assert.equal(picks[0].score, 0.1816);
  assert.equal(picks[0].tomoName, '1');
  assert.equal(picks[3].instanceId, 4);
  assertNear(picks[5], [3 + 2, 2 + 2, 1 + 2], 'row 6');
  assert.equal((await readPicks(fixture('stopgap_star.star'), { voxelSize: 1 }, { tomoName: '2' })).length, 3);
});

test('TomoMan STAR: pixel origins, rlnTomoName; binning 4 as the Data Portal reads it', async () => {
  const picks = await readPicks(fixture('tomoman_relion_star.star'), { voxelSize: 4, coordinatePixelSize: 1 }, { tomoName: 'grid_1_lamella1_pos1' });
  assert.equal(picks.length, 2);
  assertNear(picks[0], [1.3, 2.6, 3.8], 'row 1');
  assertNear(picks[1], [0.2, 0.4, 0.7], 'row 2');
  assert.equal((await readPicks(fixture('tomoman_relion_star.star'), { voxelSize: 1 })).length, 6);
});

test('copick JSON: Å locations, object name, run name, instance id and score', async () => {
  const picks = await readPicks(fixture('copick.json'), { voxelSize: 10 });
  assert.equal(picks.length, 4);
  assertNear(picks[0], [4, 2, 3], 'point 1 at 40,20,30 Å');
  assertNear(picks[2], [3, 1.5, 9.2], 'point 3 at 30,15,92 Å');
  assert.equal(picks[0].className, 'ribosome');
  assert.equal(picks[0].tomoName, undefined); // run_name is null
  assert.equal(picks[0].score, 1);
  assert.equal(picks[0].instanceId, 0);
  const instance = await readPicks(fixture('copick_instance.json'), { voxelSize: 2.5 });
  assert.equal(instance.length, 6);
  assert.equal(instance[0].tomoName, 'Position_94_Vol');
  assert.equal(instance[0].className, 'testobject');
  assertNear(instance[5], [3, 2, 1], 'point 6 at 7.5,5,2.5 Å');
});

/** Contour points straight from the bytes: after each "CONT" tag, psize at +4, points from +20. */
function contourPointsFromBytes(file: string): number[][] {
  const bytes = readFileSync(file);
  const points: number[][] = [];
  for (let at = bytes.indexOf('CONT'); at >= 0; at = bytes.indexOf('CONT', at + 4)) {
    const psize = bytes.readInt32BE(at + 4);
    for (let i = 0; i < psize; i++) {
      const p = at + 20 + 12 * i;
      points.push([bytes.readFloatBE(p), bytes.readFloatBE(p + 4), bytes.readFloatBE(p + 8)]);
    }
  }
  return points;
}

test('IMOD models: every contour point, X and Y shifted from pixel corners to centres', async () => {
  for (const [name, count] of [
    ['points.mod', 3],
    ['oriented_points.mod', 4],
  ] as const) {
    const raw = contourPointsFromBytes(fixture(name));
    assert.equal(raw.length, count, name);
    const picks = await readPicks(fixture(name), { voxelSize: 1 });
    assert.equal(picks.length, count, name);
    picks.forEach((p, i) => assertNear(p, [raw[i][0] - 0.5, raw[i][1] - 0.5, raw[i][2]], `${name} point ${i + 1}`));
    assert.equal(picks[0].className, '1'); // unnamed object 1
  }
  // Hand-read from the hex dump: points.mod holds (1,2,3), (2,2,2), (0,3,0).
  assert.deepEqual(contourPointsFromBytes(fixture('points.mod')), [
    [1, 2, 3],
    [2, 2, 2],
    [0, 3, 0],
  ]);
});

/** nx, ny, nz: the first three little-endian int32 of an MRC header. */
function mrcShape(file: string): [number, number, number] {
  const header = readFileSync(file).subarray(0, 12);
  return [header.readInt32LE(8), header.readInt32LE(4), header.readInt32LE(0)];
}

test('tomoDRGN toy: 13.1 Å tilt-series pixel coordinates land inside the 125 Å/voxel 96³ tomogram', async () => {
  const shape = mrcShape(toy('tomogram_001.mrc'));
  assert.deepEqual(shape, [96, 96, 96]);
  const frame = { voxelSize: 125, coordinatePixelSize: 13.1 };
  const picks = await readPicks(toy('10076_both_32_sim_vols.star'), frame);
  assert.equal(picks.length, 144);
  // First row: rlnCoordinateX/Y/Z = 404.7058565965978 296.8929257571516 ...; its 2D rlnOriginX/Y are not 3D shifts.
  assert.ok(Math.abs(picks[0].x - (404.7058565965978 * 13.1) / 125) < 1e-9);
  assert.ok(Math.abs(picks[0].y - (296.8929257571516 * 13.1) / 125) < 1e-9);
  checkPicksInside(picks, shape, toy('10076_both_32_sim_vols.star'));
  // Unscaled, the same coordinates overflow the tomogram: the check has teeth.
  const unscaled = await readPicks(toy('10076_both_32_sim_vols.star'), { voxelSize: 125, coordinatePixelSize: 125 });
  assert.throws(() => checkPicksInside(unscaled, shape, 'toy.star'), /toy\.star: \d+ of 144 picks lie outside/);

  const warp = toy('warptools_test_4-tomos_10-ptcls_box-32_angpix-12.star');
  const all = await readPicks(warp, frame);
  assert.equal(all.length, 40);
  checkPicksInside(all, shape, warp);
  const one = await readPicks(warp, frame, { tomoName: 'Unt_083' });
  assert.equal(one.length, 10);
  assert.ok(Math.abs(one[0].x - (494.521 * 13.1) / 125) < 1e-9);
  // Without a coordinate pixel size, the optics table's rlnTomoTiltSeriesPixelSize (1.667 Å) applies.
  const optics = await readPicks(warp, { voxelSize: 125 }, { tomoName: 'Unt_083.tomostar' });
  assert.ok(Math.abs(optics[0].x - (494.521 * 1.667) / 125) < 1e-9);
});
