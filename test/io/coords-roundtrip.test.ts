import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { type CoordFormat, type CoordFrame, type Pick, detectFormat, formatPicks, parsePicks, readPicks, writePicks } from '../../src/io/coords/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cryosam-coords-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Binned tomogram (7.5 Å/voxel) whose RELION coordinates count 2.5 Å tilt-series pixels.
const frame: CoordFrame = { voxelSize: 7.5, shape: [40, 61, 80], coordinatePixelSize: 2.5 };
const picks: Pick[] = [
  { x: 10.25, y: 20.5, z: 3.125, score: 0.875, className: '3', instanceId: 1, tomoName: '7' },
  { x: 0, y: 60.4, z: 39.4, score: 0.5, className: '3', instanceId: 2, tomoName: '7' },
  { x: 79.123456, y: 0.000123, z: 17.987654, score: 0.25, className: '3', instanceId: 5, tomoName: '7' },
];

type Field = 'score' | 'className' | 'instanceId' | 'tomoName';
/** For each writable format: the file name it is written to and the pick fields it carries. */
const cases: [CoordFormat, string, Field[]][] = [
  ['relion4', 'picks.star', ['score', 'className', 'tomoName']],
  ['relion3', 'picks3.star', ['score', 'className', 'tomoName']],
  ['relion5', 'picks5.star', ['score', 'className', 'tomoName']],
  ['tomoman', 'tomoman.star', ['score', 'className', 'tomoName']],
  ['stopgap', 'motl.star', ['score', 'className', 'instanceId', 'tomoName']],
  ['copick', 'picks.json', ['score', 'className', 'instanceId', 'tomoName']],
  ['ndjson', 'picks.ndjson', ['score', 'instanceId']],
  ['csv', 'picks.csv', ['score', 'className', 'instanceId', 'tomoName']],
  ['csv', 'picks.tsv', ['score', 'className', 'instanceId', 'tomoName']],
  ['tardis', 'tardis.csv', ['instanceId']],
  ['imod', 'picks.mod', ['className']],
];

for (const [format, name, fields] of cases) {
  test(`${format} (${name}): write then read gives the same picks`, async () => {
    const file = path.join(dir, name);
    await writePicks(file, picks, frame, { format });
    // The file's own extension and content identify the format again.
    const text = readFileSync(file, 'latin1');
    assert.equal(format === 'imod' ? 'imod' : detectFormat(file, text), format);
    const back = await readPicks(file, frame);
    assert.equal(back.length, picks.length);
    back.forEach((p, i) => {
      for (const axis of ['x', 'y', 'z'] as const) {
        assert.ok(Math.abs(p[axis] - picks[i][axis]) < 1e-3, `${axis} of pick ${i + 1}: ${p[axis]} vs ${picks[i][axis]}`);
      }
      for (const f of fields) assert.equal(String(p[f]), String(picks[i][f]), `${f} of pick ${i + 1}`);
    });
  });
}

test('writing leaves no temporary files behind', () => {
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('RELION 4 output: tomogram voxels unless a coordinate pixel size is set', () => {
  const pick = [{ x: 10, y: 20, z: 30 }];
  const voxels = formatPicks(pick, { voxelSize: 10 }, { format: 'relion4', tomoName: 'TS_1' }) as string;
  assert.match(voxels, /^TS_1\t10\t20\t30$/m);
  const pixels = formatPicks(pick, { voxelSize: 10, coordinatePixelSize: 2 }, { format: 'relion4', tomoName: 'TS_1' }) as string;
  assert.match(pixels, /^TS_1\t50\t100\t150$/m);
  assert.match(pixels, /^data_particles$/m);
  assert.match(pixels, /^_rlnTomoName #1\n_rlnCoordinateX #2\n_rlnCoordinateY #3\n_rlnCoordinateZ #4$/m);
});

test('RELION 5 output: Å from the tomogram centre at n/2', () => {
  const text = formatPicks([{ x: 50, y: 25, z: 10 }], { voxelSize: 2, shape: [20, 50, 100] }, { format: 'relion5', tomoName: 'TS_1' }) as string;
  assert.match(text, /_rlnCenteredCoordinateXAngst #2/);
  assert.match(text, /^TS_1\t0\t0\t0$/m);
  const back = parsePicks('data_particles\nloop_\n_rlnCenteredCoordinateXAngst\n_rlnCenteredCoordinateYAngst\n_rlnCenteredCoordinateZAngst\n-100 10 4\n', {
    voxelSize: 2,
    shape: [20, 50, 100],
  }, { format: 'relion5' });
  assert.deepEqual(back, [{ x: 0, y: 30, z: 12 }]);
});

test('portal NDJSON lines read as voxels, whatever the point type', () => {
  const text = [
    '{"type": "orientedPoint", "location": {"x": 1.5, "y": 2, "z": 3}, "xyz_rotation_matrix": [[1,0,0],[0,1,0],[0,0,1]]}',
    '',
    '{"type": "instancePoint", "location": {"x": 4, "y": 5, "z": 6}, "instance_id": 9}',
  ].join('\n');
  assert.deepEqual(parsePicks(text, { voxelSize: 13 }, { format: 'ndjson' }), [
    { x: 1.5, y: 2, z: 3 },
    { x: 4, y: 5, z: 6, instanceId: 9 },
  ]);
});

test('CSV headers: class,x,y,z with score and Å units; semicolons and whitespace', () => {
  const frame10 = { voxelSize: 10 };
  assert.deepEqual(parsePicks('class,x,y,z,score\n1,34,16,64,0.9\n', frame10, { format: 'csv' }), [
    { x: 34, y: 16, z: 64, className: '1', score: 0.9 },
  ]);
  assert.deepEqual(parsePicks('X_angst;Y_angst;Z_angst\n10;20;30\n', frame10, { format: 'csv' }), [{ x: 1, y: 2, z: 3 }]);
  assert.deepEqual(parsePicks('# comment\n  1 2 3 0.5\n4\t5  6 0.7\n', frame10, { format: 'csv' }), [
    { x: 1, y: 2, z: 3 },
    { x: 4, y: 5, z: 6 },
  ]);
});
