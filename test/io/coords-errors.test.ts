import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { sharedDir } from '../../src/paths.js';
import { checkPicksInside, cliFormat, formatPicks, parsePicks, readPicks, writePicks } from '../../src/io/coords/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cryosam-coords-err-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Asserts a CryosamError whose message matches every pattern. */
function assertError(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CryosamError, `expected CryosamError, got ${String(err)}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

async function assertRejects(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CryosamError, `expected CryosamError, got ${String(err)}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

test('STAR without a coordinate column names the file and the missing column', async () => {
  const file = path.join(dir, 'noz.star');
  writeFileSync(file, 'data_particles\nloop_\n_rlnTomoName\n_rlnCoordinateX\n_rlnCoordinateY\nTS_1 1 2\n');
  await assertRejects(readPicks(file, { voxelSize: 1 }), /noz\.star: /, /missing column rlnCoordinateZ\b/);
  assertError(
    () => parsePicks('data_\nloop_\n_orig_x\n_orig_y\n1 2\n', { voxelSize: 1 }, { format: 'stopgap', file: 'motl.star' }),
    /^motl\.star: /,
    /lacks column orig_z/,
  );
  assertError(() => parsePicks('x,y\n1,2\n', { voxelSize: 1 }, { format: 'csv', file: 'p.csv' }), /^p\.csv: header lacks column z/);
});

test('malformed numbers name the file and line', async () => {
  const star = path.join(dir, 'bad.star');
  writeFileSync(star, 'data_\n\nloop_\n_rlnCoordinateX #1\n_rlnCoordinateY #2\n_rlnCoordinateZ #3\n1 2 3\n4 5,0 6\n');
  await assertRejects(readPicks(star, { voxelSize: 1 }), /bad\.star: line 8: rlnCoordinateY "5,0" is not a number/);
  assertError(() => parsePicks('x,y,z\n1,2,3\n1,two,3\n', { voxelSize: 1 }, { format: 'csv', file: 'p.csv' }), /^p\.csv: line 3: y "two" is not a number/);
  assertError(() => parsePicks('1,2,3\n1,2\n', { voxelSize: 1 }, { format: 'csv', file: 'q.csv' }), /^q\.csv: line 2: 2 fields where the first row has 3/);
  assertError(
    () => parsePicks('{"type":"point","location":{"x":1,"y":2,"z":3}}\n{"type":"point","location":{"x":"1","y":2,"z":3}}\n', { voxelSize: 1 }, { format: 'ndjson', file: 'a.ndjson' }),
    /^a\.ndjson: line 2: location\.x: /,
  );
  assertError(() => parsePicks('{"points": [', { voxelSize: 1 }, { format: 'copick', file: 'c.json' }), /^c\.json: not valid JSON/);
});

test('picks outside the volume: the first offenders are listed', () => {
  const picks = [
    { x: 0, y: 0, z: 0 },
    { x: 9.6, y: 1, z: 1 },
    { x: -0.5, y: 4.49, z: 2.49 },
    { x: 1, y: -0.51, z: 1 },
  ];
  assertError(() => checkPicksInside(picks, [3, 5, 10], 'picks.csv'), /^picks\.csv: 2 of 4 picks lie outside the 10×5×3-voxel tomogram/, /#2 \(x 9\.6/, /#4 \(x 1, y -0\.51/);
  checkPicksInside(picks.slice(0, 1).concat(picks[2]), [3, 5, 10], 'picks.csv');
});

test('unknown format names are refused with the list of valid ones', () => {
  assert.equal(cliFormat('STAR'), 'relion4');
  assert.equal(cliFormat('relion5'), 'relion5');
  assert.equal(cliFormat('json'), 'copick');
  assertError(() => cliFormat('pdb'), /unknown coordinate format "pdb"/, /relion4, relion3, relion5, stopgap/);
});

test('RELION 5 needs the tomogram shape, to read and to write', () => {
  const text = 'data_particles\nloop_\n_rlnCenteredCoordinateXAngst\n_rlnCenteredCoordinateYAngst\n_rlnCenteredCoordinateZAngst\n1 2 3\n';
  assertError(() => parsePicks(text, { voxelSize: 1 }, { format: 'relion5', file: 'r5.star' }), /^r5\.star: /, /shape is needed/);
  assertError(() => formatPicks([{ x: 1, y: 2, z: 3 }], { voxelSize: 1 }, { format: 'relion5' }), /shape is needed/);
});

test('a voxel size of 0 is refused before any coordinate is converted', async () => {
  assertError(() => parsePicks('1,2,3\n', { voxelSize: 0 }, { format: 'csv', file: 'p.csv' }), /^p\.csv: voxel size must be a positive number of Å, got 0/);
  assertError(() => parsePicks('1,2,3\n', { voxelSize: 1, coordinatePixelSize: -2 }, { format: 'csv' }), /coordinate pixel size must be a positive/);
  const out = path.join(dir, 'zero.star');
  await assertRejects(writePicks(out, [{ x: 1, y: 2, z: 3 }], { voxelSize: 0 }), /zero\.star: voxel size/);
  assert.ok(!readdirSync(dir).includes('zero.star'));
});

test('asking for a tomogram the file does not hold lists the ones it does', () => {
  const text = 'data_particles\nloop_\n_rlnTomoName\n_rlnCoordinateX\n_rlnCoordinateY\n_rlnCoordinateZ\nTS_1 1 2 3\nTS_2 4 5 6\n';
  assertError(() => parsePicks(text, { voxelSize: 1 }, { format: 'relion4', file: 't.star', tomoName: 'TS_9' }), /^t\.star: no picks for tomogram "TS_9"; the file has TS_1, TS_2/);
});

test('unreadable files, unknown extensions and broken IMOD models', async () => {
  await assertRejects(readPicks(path.join(dir, 'missing.star'), { voxelSize: 1 }), /missing\.star: file not found/);
  await assertRejects(writePicks(path.join(dir, 'picks.xyz'), [], { voxelSize: 1 }), /picks\.xyz: cannot tell the coordinate format/);
  const mod = path.join(dir, 'cut.mod');
  writeFileSync(mod, Buffer.from('IMODV1.2' + '\0'.repeat(100), 'latin1'));
  await assertRejects(readPicks(mod, { voxelSize: 1 }), /cut\.mod: truncated IMOD model: the model header at byte 0 needs 240 bytes, but the file has 108 left/);
  assertError(() => formatPicks([{ x: 1, y: 2, z: 3, tomoName: 'TS_01' }], { voxelSize: 1 }, { format: 'stopgap' }), /STOPGAP numbers its tomograms/);
});

test('a headerless CSV whose first field looks like a class asks for a header instead of reading classes as x', async () => {
  // DeepFinder's class,x,y,z list with its header line removed.
  const gt = path.join(sharedDir(), 'data', 'deepfinder_toy100', 'tomo1_gt.csv');
  const rows = readFileSync(gt, 'utf8').split('\n').slice(1).join('\n');
  const file = path.join(dir, 'noheader.csv');
  writeFileSync(file, rows);
  await assertRejects(readPicks(file, { voxelSize: 1 }), /noheader\.csv: /, /first field looks like a class/, /add a header line/);
  // The same rows with their header, and headerless x,y,z,score rows, still read.
  assert.equal((await readPicks(gt, { voxelSize: 1 })).length, rows.trim().split('\n').length);
  const xyzScore = '10,12,3,0.9\n40,7,5,0.8\n75,30,9,0.7\n12,60,2,0.6\n';
  assert.deepEqual(parsePicks(xyzScore, { voxelSize: 1 }, { format: 'csv' }).map((p) => p.x), [10, 40, 75, 12]);
});
