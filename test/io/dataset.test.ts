import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { copickPicksPath, resolveDataset } from '../../src/io/dataset/index.js';
import { expandGlob, segmentRegExp } from '../../src/io/dataset/glob.js';
import { writeMrc } from '../../src/io/mrc/index.js';

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-dataset-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A fresh folder under the test's temporary folder. */
async function folder(name: string): Promise<string> {
  const d = path.join(dir, name);
  await fs.mkdir(d, { recursive: true });
  return d;
}

/** A tiny 8³ MRC at `file` (folders created). */
async function mrc(file: string): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeMrc(file, { data: new Float32Array(512), shape: [8, 8, 8], voxelSize: { x: 10, y: 10, z: 10 } });
  return file;
}

async function write(file: string, text: string): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
  return file;
}

async function rejects(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<CryosamError> {
  let error: unknown;
  await promise.then(
    () => assert.fail('expected a CryosamError'),
    (err: unknown) => {
      error = err;
    },
  );
  assert.ok(error instanceof CryosamError, `not a CryosamError: ${String(error)}`);
  for (const p of patterns) assert.match(error.message, p);
  return error;
}

/** A RELION 5 project: ReconstructTomograms/job012/tomograms.star, paths relative to the project. */
function tomogramsStar(rows: [name: string, file: string][]): string {
  return [
    '',
    '# version 50001',
    '',
    'data_global',
    '',
    'loop_',
    '_rlnTomoName #1',
    '_rlnTomoTiltSeriesStarFile #2',
    '_rlnVoltage #3',
    '_rlnTomoTiltSeriesPixelSize #4',
    '_rlnTomoTomogramBinning #5',
    '_rlnTomoSizeX #6',
    '_rlnTomoSizeY #7',
    '_rlnTomoSizeZ #8',
    '_rlnTomoReconstructedTomogram #9',
    ...rows.map(([name, file]) => `${name} AlignTiltSeries/job011/tilt_series/${name}.star 300.000000 1.350000 8.000000 8 8 8 ${file}`),
    '',
  ].join('\n');
}

test('RELION 5 tomograms.star: names, absolute paths and voxel sizes; relative paths from the project folder', async () => {
  const project = await folder('relion');
  const a = await mrc(path.join(project, 'ReconstructTomograms/job012/tomograms/rec_TS_01.mrc'));
  const b = await mrc(path.join(project, 'ReconstructTomograms/job012/tomograms/rec_TS_02.mrc'));
  const star = await write(
    path.join(project, 'ReconstructTomograms/job012/tomograms.star'),
    tomogramsStar([
      ['TS_02', 'ReconstructTomograms/job012/tomograms/rec_TS_02.mrc'],
      ['TS_01', 'ReconstructTomograms/job012/tomograms/rec_TS_01.mrc'],
    ]),
  );
  // From anywhere (not the project): found relative to the STAR file's grandparent.
  const list = await resolveDataset([star], { cwd: os.tmpdir() });
  assert.deepEqual(list, [
    { name: 'TS_01', path: a, voxelSizeA: 1.35 * 8, source: star },
    { name: 'TS_02', path: b, voxelSizeA: 1.35 * 8, source: star },
  ]);
  // Relative to the STAR file's folder, and the STAR given relative to cwd.
  const local = await write(
    path.join(project, 'ReconstructTomograms/job012/local.star'),
    tomogramsStar([['TS_01', 'tomograms/rec_TS_01.mrc']]),
  );
  const fromCwd = await resolveDataset([path.relative(project, local)], { cwd: project });
  assert.equal(fromCwd[0].path, a);
  assert.equal(fromCwd[0].source, path.relative(project, local));
});

test('tomograms.star naming a missing tomogram: the STAR file, the line and tomogram, and every path tried', async () => {
  const project = await folder('relion-missing');
  await mrc(path.join(project, 'rec/TS_01.mrc'));
  const star = await write(
    path.join(project, 'Reconstruct/job001/tomograms.star'),
    tomogramsStar([
      ['TS_01', 'rec/TS_01.mrc'],
      ['TS_02', 'rec/TS_02.mrc'],
    ]),
  );
  const err = await rejects(resolveDataset([star], { cwd: dir }), /line 17: tomogram TS_02/, /rec\/TS_02\.mrc not found/, /tried /);
  assert.equal(err.file, star);
  for (const base of [path.dirname(star), dir, path.dirname(path.dirname(star)), project]) {
    assert.ok(err.message.includes(path.join(base, 'rec/TS_02.mrc')), `${base} not among the paths tried: ${err.message}`);
  }
  // A folder where the tomogram should be is refused too, before anything is returned.
  await fs.mkdir(path.join(project, 'rec/TS_02.mrc'));
  await rejects(resolveDataset([star], { cwd: dir }), /line 17: tomogram TS_02: .*is a folder/);
});

test('tomograms.star without reconstructed tomograms, and particle STAR files, are refused naming the file', async () => {
  const d = await folder('relion-bad');
  const importOnly = await write(
    path.join(d, 'tomograms.star'),
    'data_global\nloop_\n_rlnTomoName #1\n_rlnTomoTiltSeriesStarFile #2\nTS_01 ts/TS_01.star\n',
  );
  await rejects(resolveDataset([importOnly]), /no rlnTomoReconstructedTomogram column/, /ReconstructTomograms/);
  const particles = await write(path.join(d, 'particles.star'), 'data_particles\nloop_\n_rlnTomoName\n_rlnCoordinateX\nTS_01 1\n');
  const err = await rejects(resolveDataset([particles]), /not a RELION 5 tomograms\.star/);
  assert.equal(err.file, particles);
});

/** A copick project: config at <d>/copick.json, overlay <d>/overlay, static <d>/static (when asked). */
async function copickProject(d: string, config: Record<string, unknown>): Promise<string> {
  return write(
    path.join(d, 'copick.json'),
    JSON.stringify({
      config_type: 'filesystem',
      name: 'test',
      version: '1.0.0',
      pickable_objects: [{ name: 'ribosome', is_particle: true, label: 1, radius: 150 }],
      ...config,
    }),
  );
}

test('copick project: a tomogram per run (MRC beside the Zarr), run names, voxel spacing, file:// and local:// roots', async () => {
  const d = await folder('copick');
  const runs = path.join(d, 'static/ExperimentRuns');
  const t1 = await mrc(path.join(runs, 'TS_1/VoxelSpacing10.000/wbp.mrc'));
  await fs.mkdir(path.join(runs, 'TS_1/VoxelSpacing10.000/wbp.zarr'), { recursive: true });
  await fs.mkdir(path.join(runs, 'TS_1/VoxelSpacing10.000/wbp_cellcanvas01_features.zarr'), { recursive: true });
  const t2 = await mrc(path.join(runs, 'TS_2/VoxelSpacing10.000/wbp.mrc'));
  await fs.mkdir(path.join(runs, 'TS_2/Picks'), { recursive: true });
  await fs.mkdir(path.join(runs, '.hidden'), { recursive: true });
  // A zarr-only coarser spacing is not a choice: cryosam cannot read it.
  await fs.mkdir(path.join(runs, 'TS_1/VoxelSpacing20.000/wbp.zarr'), { recursive: true });
  await fs.mkdir(path.join(runs, 'TS_2/VoxelSpacing20.000/wbp.zarr'), { recursive: true });
  // A run with only overlay content (picks) is the same run as in the static root.
  await fs.mkdir(path.join(d, 'overlay/ExperimentRuns/TS_1/Picks'), { recursive: true });
  const config = await copickProject(d, { static_root: `file://${path.join(d, 'static')}/`, overlay_root: `local://${path.join(d, 'overlay')}` });

  const list = await resolveDataset([config]);
  assert.deepEqual(list, [
    { name: 'TS_1', path: t1, voxelSizeA: 10, source: config, copick: { run: 'TS_1', voxelSpacing: 10, tomoType: 'wbp' } },
    { name: 'TS_2', path: t2, voxelSizeA: 10, source: config, copick: { run: 'TS_2', voxelSpacing: 10, tomoType: 'wbp' } },
  ]);
  assert.equal(
    copickPicksPath(config, 'TS_1', 'ribosome', 'cryosam', '0'),
    path.join(d, 'overlay/ExperimentRuns/TS_1/Picks/cryosam_0_ribosome.json'),
  );
  assert.throws(() => copickPicksPath(config, 'TS_1', 'ribosome', 'cryo_sam', '0'), /user id "cryo_sam"/);

  // Choices: asking for the zarr-only spacing says cryosam reads MRC.
  await rejects(resolveDataset([config], { copick: { voxelSpacing: 20 } }), /at voxel spacing 20\.000 only as OME-Zarr \(tomogram types wbp\)/, /reads MRC/);
  await rejects(resolveDataset([config], { copick: { voxelSpacing: 20, tomoType: 'wbp' } }), /run TS_1: tomogram wbp is only OME-Zarr/, /reads MRC/);
  await rejects(resolveDataset([config], { copick: { voxelSpacing: 20, tomoType: 'denoised' } }), /run TS_1 has no tomogram denoised/);
  await rejects(resolveDataset([config], { copick: { voxelSpacing: 7.84 } }), /run TS_1 has no ExperimentRuns\/TS_1\/VoxelSpacing7\.840 \(voxel spacings: 10\.000, 20\.000\)/);
  // Two MRC types: no default, the choices listed; one chosen works.
  const d1 = await mrc(path.join(runs, 'TS_1/VoxelSpacing10.000/denoised.mrc'));
  await mrc(path.join(runs, 'TS_2/VoxelSpacing10.000/denoised.mrc'));
  await rejects(resolveDataset([config]), /at voxel spacing 10\.000 at several tomogram types \(denoised, wbp\): choose one/);
  const denoised = await resolveDataset([config], { copick: { tomoType: 'denoised', voxelSpacing: 10 } });
  assert.equal(denoised[0].path, d1);
  assert.deepEqual(denoised[0].copick, { run: 'TS_1', voxelSpacing: 10, tomoType: 'denoised' });
});

test('copick: zarr-only projects, bad configs and remote roots are refused naming the config', async () => {
  const d = await folder('copick-zarr');
  await fs.mkdir(path.join(d, 'overlay/ExperimentRuns/TS_1/VoxelSpacing10.000/wbp.zarr'), { recursive: true });
  const zarrOnly = await copickProject(d, { overlay_root: 'overlay' }); // relative: from the config's folder
  await rejects(resolveDataset([zarrOnly]), /only as OME-Zarr/, /cryosam reads MRC/);

  const bad = await folder('copick-bad');
  const cases: [string, RegExp][] = [
    ['{ "name": "x", ', /not a copick config: not valid JSON/],
    ['{ "name": "x", "overlay_root": "/tmp" }', /not a copick config: pickable_objects/],
    ['{ "pickable_objects": [] }', /neither overlay_root nor static_root/],
    ['{ "pickable_objects": [], "overlay_root": "s3://bucket/project" }', /local files only/],
    ['{ "pickable_objects": [], "config_type": "cryoet_data_portal", "overlay_root": "/tmp", "dataset_ids": [10301] }', /Data Portal/],
    [`{ "pickable_objects": [], "overlay_root": ${JSON.stringify(bad)} }`, /no ExperimentRuns folder/],
  ];
  for (const [i, [text, pattern]] of cases.entries()) {
    const file = await write(path.join(bad, `config${i}.json`), text);
    const err = await rejects(resolveDataset([file]), pattern);
    assert.equal(err.file, file);
  }
});

test('paths and globs: *, ?, [..], **, hidden files left out, absolute sorted paths named by file', async () => {
  const d = await folder('globs');
  const a = await mrc(path.join(d, 'tomos/TS_01.mrc'));
  const b = await mrc(path.join(d, 'tomos/TS_02.mrc'));
  const c = await mrc(path.join(d, 'tomos/deep/er/TS_13.mrc'));
  await mrc(path.join(d, 'tomos/.TS_hidden.mrc'));
  await write(path.join(d, 'tomos/notes.txt'), 'x');

  const star = await resolveDataset(['tomos/*.mrc'], { cwd: d });
  assert.deepEqual(star.map((t) => [t.name, t.path, t.source]), [
    ['TS_01', a, 'tomos/*.mrc'],
    ['TS_02', b, 'tomos/*.mrc'],
  ]);
  assert.deepEqual((await resolveDataset(['tomos/TS_0?.mrc'], { cwd: d })).map((t) => t.path), [a, b]);
  assert.deepEqual((await resolveDataset([path.join(d, 'tomos/TS_?[!1].mrc')])).map((t) => t.path), [b]);
  assert.deepEqual((await resolveDataset(['tomos/**/*.mrc'], { cwd: d })).map((t) => t.name), ['TS_01', 'TS_02', 'TS_13']);
  assert.deepEqual((await resolveDataset(['**/TS_1?.mrc'], { cwd: d })).map((t) => t.path), [c]);
  // A path, a glob and a symbolic link reaching the same file: listed once.
  await fs.symlink(a, path.join(d, 'link.mrc'));
  const once = await resolveDataset(['tomos/TS_01.mrc', 'tomos/TS_0[1].mrc', 'link.mrc'], { cwd: d });
  assert.equal(once.length, 1);
  assert.equal(once[0].name, 'TS_01');

  assert.equal(segmentRegExp('TS_[0-9][!a].m?c').test('TS_5b.mrc'), true);
  assert.equal(segmentRegExp('TS_[0-9][!a].m?c').test('TS_5a.mrc'), false);
  assert.equal(segmentRegExp('a.b').test('axb'), false);
  assert.deepEqual(await expandGlob('tomos/*', d), [a, b, path.join(d, 'tomos/deep'), path.join(d, 'tomos/notes.txt')]);
});

test('a glob matching nothing, missing files, folders and FIFOs are errors naming them', async () => {
  const d = await folder('glob-errors');
  await mrc(path.join(d, 'TS_01.mrc'));
  await fs.mkdir(path.join(d, 'folder.mrc'));
  execFileSync('mkfifo', [path.join(d, 'fifo.mrc')]);
  let err = await rejects(resolveDataset(['TS_01.mrc', 'tomos/*.mrc'], { cwd: d }), /matches no file/);
  assert.equal(err.file, 'tomos/*.mrc');
  err = await rejects(resolveDataset(['TS_02.mrc'], { cwd: d }), /file not found/);
  assert.equal(err.file, 'TS_02.mrc');
  await rejects(resolveDataset(['folder.mrc'], { cwd: d }), /is a folder/);
  err = await rejects(resolveDataset(['*.mrc'], { cwd: d }), /not a regular file \(a named pipe\)/);
  assert.equal(err.file, path.join(d, 'fifo.mrc'));
  await rejects(resolveDataset([]), /no tomograms given/);
});

test('same-named files in different folders: distinct names from parent folders, the same for any input order', async () => {
  const d = await folder('names');
  const t1 = await mrc(path.join(d, 'TS_01/tomogram.mrc'));
  const t2 = await mrc(path.join(d, 'TS_02/tomogram.mrc'));
  const lone = await mrc(path.join(d, 'TS_03/other.mrc'));
  // Same parent folder name, different grandparents: two folders are needed.
  const x = await mrc(path.join(d, 'a/rec/tomo.mrc'));
  const y = await mrc(path.join(d, 'b/rec/tomo.mrc'));
  // Same folder, different extensions.
  const m = await mrc(path.join(d, 'same/TS_09.mrc'));
  const r = await mrc(path.join(d, 'same/TS_09.rec'));

  const expected = [
    ['TS_01_tomogram', t1],
    ['TS_02_tomogram', t2],
    ['TS_09_mrc', m],
    ['TS_09_rec', r],
    ['a_rec_tomo', x],
    ['b_rec_tomo', y],
    ['other', lone],
  ];
  const inputs = [t1, t2, lone, x, y, m, r];
  for (const order of [inputs, [...inputs].reverse(), [r, x, t2, lone, m, y, t1]]) {
    const list = await resolveDataset(order);
    assert.deepEqual(list.map((t) => [t.name, t.path]), expected);
  }
  // Through a glob, the same names.
  assert.deepEqual((await resolveDataset(['*/tomogram.mrc'], { cwd: d })).map((t) => t.name), ['TS_01_tomogram', 'TS_02_tomogram']);
});

test('names from a STAR file are kept; a path with the same name is prefixed; two tomograms named alike are an error', async () => {
  const d = await folder('names-fixed');
  const inStar = await mrc(path.join(d, 'rec/TS_01.mrc'));
  const other = await mrc(path.join(d, 'elsewhere/TS_01.mrc'));
  const star = await write(path.join(d, 'tomograms.star'), tomogramsStar([['TS_01', 'rec/TS_01.mrc']]));
  const list = await resolveDataset([other, star, inStar]);
  assert.deepEqual(list.map((t) => [t.name, t.path, t.voxelSizeA]), [
    ['TS_01', inStar, 1.35 * 8],
    ['elsewhere_TS_01', other, undefined],
  ]);

  const star2 = await write(path.join(d, 'more/tomograms.star'), tomogramsStar([['ts_01', '../elsewhere/TS_01.mrc']]));
  await rejects(resolveDataset([star, star2]), /two different tomograms are named "TS_01" and "ts_01"/);
  const dup = await write(path.join(d, 'dup.star'), tomogramsStar([['TS_01', 'rec/TS_01.mrc'], ['TS_01', 'elsewhere/TS_01.mrc']]));
  await rejects(resolveDataset([dup]), /two different tomograms are named "TS_01"/, /line 17/);
});
