/**
 * A dataset from one click, through the CLI as a user runs it: a reference saved from a pick in one
 * simulated tomogram picks three others (`cryosam batch`), a reference merged from clicks in two
 * tomograms picks a third, reruns skip what is done, a killed run
 * resumes, a broken tomogram is recorded while the rest go on, and the same batch runs as a Slurm
 * array with a dependent merge on a real one-node cluster (.ci/slurm-up.sh).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { scorePicks } from '../../src/eval/score.js';
import { readPicks } from '../../src/io/coords/index.js';
import { readMrc, writeMrc } from '../../src/io/mrc/index.js';
import { parseStar } from '../../src/io/coords/star.js';
import { runCli } from '../helpers/cli.js';
import { ensureSlurm, waitForJobs } from '../helpers/slurm.js';

let dir: string;
const SEEDS = [3, 4, 5];

async function truthOf(sim: string) {
  return readPicks(path.join(sim, 'picks_4v7r.csv'), { voxelSize: 10 });
}

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-batch-'));
  for (const seed of [2, ...SEEDS]) {
    const r = await runCli(['simulate', path.join(dir, `sim${seed}`), '--preset', 'easy', '--seed', String(seed), '-q']);
    assert.equal(r.code, 0, r.stderr);
  }
  const t = (await truthOf(path.join(dir, 'sim2')))[0];
  const at = [t.x, t.y, t.z].map(Math.round).join(',');
  const r = await runCli(['pick', path.join(dir, 'sim2', 'tomogram.mrc'), '--at', at, '-o', path.join(dir, 'ref-pick.star'), '--save-reference', path.join(dir, 'ribosome.ref'), '--no-cache']);
  assert.equal(r.code, 0, r.stderr);
  await fs.mkdir(path.join(dir, 'data'));
  for (const seed of SEEDS) {
    await fs.mkdir(path.join(dir, 'data', `TS_0${seed}`));
    await fs.copyFile(path.join(dir, `sim${seed}`, 'tomogram.mrc'), path.join(dir, 'data', `TS_0${seed}`, 'tomogram.mrc'));
  }
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const env = () => ({ CRYOSAM_CACHE: path.join(dir, 'cache') });

test('batch: every tomogram picked with the saved reference as well as from a click in it; a rerun does nothing', async () => {
  const out = path.join(dir, 'out');
  const args = ['batch', path.join(dir, 'data', '*', 'tomogram.mrc'), '--reference', path.join(dir, 'ribosome.ref'), '--out', out, '--jobs', '2'];
  const r = await runCli(args, { env: env() });
  assert.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.tomograms.map((t: { name: string; status: string }) => [t.name, t.status]), SEEDS.map((s) => [`TS_0${s}_tomogram`, 'done']));
  let total = 0;
  for (const seed of SEEDS) {
    const picks = await readPicks(path.join(out, `TS_0${seed}_tomogram.star`), { voxelSize: 10 });
    const truth = await truthOf(path.join(dir, `sim${seed}`));
    const score = scorePicks(picks, truth, 8);
    assert.ok(score.f1 >= 0.85, `seed ${seed}: F1 ${score.f1.toFixed(3)} with the reference from seed 2`);
    total += picks.length;
  }
  const star = parseStar(await fs.readFile(path.join(out, 'particles.star'), 'utf8'), 'particles.star');
  const table = star.find((t) => t.columns.includes('rlnCenteredCoordinateXAngst'))!;
  assert.deepEqual(table.columns, ['rlnTomoName', 'rlnCenteredCoordinateXAngst', 'rlnCenteredCoordinateYAngst', 'rlnCenteredCoordinateZAngst', 'rlnAutopickFigureOfMerit', 'rlnClassNumber']);
  assert.equal(table.rows.length, total, 'every pick of every tomogram in the merged STAR');
  const mtimes = await Promise.all(SEEDS.map((s) => fs.stat(path.join(out, `TS_0${s}_tomogram.star`)).then((st) => st.mtimeMs)));
  const again = await runCli(args, { env: env() });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /3 already done, 0 to pick/);
  assert.deepEqual(await Promise.all(SEEDS.map((s) => fs.stat(path.join(out, `TS_0${s}_tomogram.star`)).then((st) => st.mtimeMs))), mtimes, 'nothing rewritten');

  // A run killed after one tomogram: its record and output are missing; the rerun picks it alone.
  await fs.rm(path.join(out, '.cryosam', 'entries', 'TS_04_tomogram.json'));
  await fs.rm(path.join(out, 'TS_04_tomogram.star'));
  const resumed = await runCli(args, { env: env() });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /2 already done, 1 to pick/);
  const merged = parseStar(await fs.readFile(path.join(out, 'particles.star'), 'utf8'), 'particles.star').find((t) => t.rows.length)!;
  assert.equal(merged.rows.length, total, 'the same particles, none lost or duplicated');

  // Another reference into the same folder is refused before any work.
  const other = await runCli([...args.slice(0, -2), '--masks'], { env: env() });
  assert.equal(other.code, 1);
  assert.match(other.stderr, /another reference or other options/);
});

test('reference: prompts in two tomograms (a STAR with rlnTomoName) make one reference, with one average, that picks a third', async () => {
  const prompt = async (seed: number) => (await truthOf(path.join(dir, `sim${seed}`)))[0];
  const a = await prompt(3), b = await prompt(4);
  const star = ['data_particles', '', 'loop_', '_rlnTomoName #1', '_rlnCoordinateX #2', '_rlnCoordinateY #3', '_rlnCoordinateZ #4',
    `TS_03_tomogram ${a.x} ${a.y} ${a.z}`, `TS_04_tomogram ${b.x} ${b.y} ${b.z}`, ''].join('\n');
  await fs.writeFile(path.join(dir, 'clicks.star'), star);
  const ref = path.join(dir, 'merged.ref');
  const r = await runCli(['reference', path.join(dir, 'data', '*', 'tomogram.mrc'), '--prompts', path.join(dir, 'clicks.star'), '-o', ref], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /1 tomogram\(s\) have no prompt and are left out: TS_05_tomogram/);
  const json = JSON.parse(await fs.readFile(path.join(ref, 'reference.json'), 'utf8'));
  assert.deepEqual(json.sources.map((s: { tomogram: string }) => path.relative(dir, s.tomogram)), [path.join('data', 'TS_03', 'tomogram.mrc'), path.join('data', 'TS_04', 'tomogram.mrc')]);
  assert.ok(json.average, 'a self-template');
  const report = JSON.parse(await fs.readFile(`${ref}.report.json`, 'utf8'));
  for (const [i, t] of report.tomograms.entries()) {
    const truth = (await truthOf(path.join(dir, `sim${[3, 4][i]}`))).length;
    assert.ok(t.segmented === 1 && t.picks >= 0.8 * truth, `${t.name}: ${t.segmented} prompt segmented, ${t.picks} picks averaged of ${truth} particles`);
  }

  const out = path.join(dir, 'merged-05.star');
  const picked = await runCli(['pick', path.join(dir, 'data', 'TS_05', 'tomogram.mrc'), '--reference', ref, '-o', out], { env: env() });
  assert.equal(picked.code, 0, picked.stderr);
  const score = scorePicks(await readPicks(out, { voxelSize: 10 }), await truthOf(path.join(dir, 'sim5')), 8);
  assert.ok(score.f1 >= 0.85, `F1 ${score.f1.toFixed(3)} with the reference from seeds 3 and 4`);

  // Prompts that do not say their tomogram cannot be shared out between two.
  await fs.writeFile(path.join(dir, 'clicks.csv'), `x,y,z\n${a.x},${a.y},${a.z}\n`);
  const bad = await runCli(['reference', path.join(dir, 'data', 'TS_03', 'tomogram.mrc'), path.join(dir, 'data', 'TS_04', 'tomogram.mrc'), '--prompts', path.join(dir, 'clicks.csv'), '-o', path.join(dir, 'bad.ref')], { env: env() });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /clicks\.csv: names no tomogram/);
  await assert.rejects(fs.stat(path.join(dir, 'bad.ref', 'reference.json')));
});

test('batch --voxel-size: tomograms whose headers lack the voxel size are picked at the one given', async () => {
  const data = path.join(dir, 'nosize');
  await fs.mkdir(data, { recursive: true });
  const vol = await readMrc(path.join(dir, 'sim3', 'tomogram.mrc'));
  await writeMrc(path.join(data, 'TS_03.mrc'), { ...vol, voxelSize: { x: 1, y: 1, z: 1 } });
  const out = path.join(dir, 'out-nosize');
  const args = ['batch', path.join(data, 'TS_03.mrc'), '--reference', path.join(dir, 'ribosome.ref'), '--out', out, '-q'];
  const without = await runCli(args, { env: env() });
  assert.equal(without.code, 1, 'a 1 Å header is 10× off the reference');
  const failed = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')).tomograms[0];
  assert.match(failed.error, /voxel size 1 Å differs from the reference's 10 Å/);
  // Other options, another run: a new output folder (the old one is refused, as for any change of options).
  const out10 = path.join(dir, 'out-nosize-10');
  const given = await runCli([...args.slice(0, 5), out10, '-q', '--voxel-size', '10'], { env: env() });
  assert.equal(given.code, 0, given.stderr);
  const score = scorePicks(await readPicks(path.join(out10, 'TS_03.star'), { voxelSize: 10 }), await truthOf(path.join(dir, 'sim3')), 8);
  assert.ok(score.f1 >= 0.85, `F1 ${score.f1.toFixed(3)} at the given voxel size`);
});

test('batch: a broken tomogram is recorded as failed and the others are picked; the exit code says so', async () => {
  const out = path.join(dir, 'out-broken');
  const broken = path.join(dir, 'broken.mrc');
  await fs.writeFile(broken, (await fs.readFile(path.join(dir, 'data', 'TS_03', 'tomogram.mrc'))).subarray(0, 2048));
  const r = await runCli(['batch', broken, path.join(dir, 'data', 'TS_03', 'tomogram.mrc'), '--reference', path.join(dir, 'ribosome.ref'), '--out', out, '-q'], { env: env() });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /1 of 2 tomograms not picked \(broken\)/);
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8'));
  const byName = Object.fromEntries(manifest.tomograms.map((t: { name: string }) => [t.name, t]));
  assert.equal(byName.broken.status, 'failed');
  assert.match(byName.broken.error, /broken\.mrc/);
  assert.equal(byName.tomogram.status, 'done');
  assert.ok(byName.tomogram.picks > 0);
});

test('batch into a copick project: picks JSON under the run, user, session and object copick files them by', async () => {
  const project = path.join(dir, 'copick');
  for (const seed of SEEDS.slice(0, 2)) {
    const at = path.join(project, 'ExperimentRuns', `TS_${seed}`, 'VoxelSpacing10.000');
    await fs.mkdir(at, { recursive: true });
    await fs.copyFile(path.join(dir, 'data', `TS_0${seed}`, 'tomogram.mrc'), path.join(at, 'wbp.mrc'));
  }
  const config = path.join(dir, 'copick_config.json');
  await fs.writeFile(config, JSON.stringify({ config_type: 'filesystem', name: 'bench', version: '1.0.0', pickable_objects: [{ name: 'ribosome', is_particle: true, label: 1 }], overlay_root: `local://${project}` }));
  const out = path.join(dir, 'out-copick');
  const r = await runCli(['batch', config, '--reference', path.join(dir, 'ribosome.ref'), '--out', out, '--format', 'copick', '--copick-user', 'me', '--copick-object', 'ribosome', '-q'], { env: env() });
  assert.equal(r.code, 0, r.stderr);
  for (const seed of SEEDS.slice(0, 2)) {
    const file = path.join(project, 'ExperimentRuns', `TS_${seed}`, 'Picks', 'me_0_ribosome.json');
    const doc = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.deepEqual([doc.run_name, doc.user_id, doc.session_id, doc.pickable_object_name], [`TS_${seed}`, 'me', '0', 'ribosome']);
    const picks = await readPicks(file, { voxelSize: 10 });
    assert.ok(scorePicks(picks, await truthOf(path.join(dir, `sim${seed}`)), 8).f1 >= 0.85);
    assert.deepEqual(await fs.readdir(path.dirname(file)), ['me_0_ribosome.json'], 'nothing else in the project\'s Picks folder');
  }
});

test('batch --slurm --submit: an array task per tomogram and a merge after them, on a real Slurm', async () => {
  await ensureSlurm();
  const out = path.join(dir, 'out-slurm');
  const r = await runCli(
    ['batch', path.join(dir, 'data', '*', 'tomogram.mrc'), '--reference', path.join(dir, 'ribosome.ref'), '--out', out, '--slurm', '--submit', '--cpus-per-task', '1', '--mem', '1G'],
    { env: env() },
  );
  assert.equal(r.code, 0, r.stderr);
  const ids = [...r.stdout.matchAll(/job (\d+)/g)].map((m) => m[1]);
  assert.equal(ids.length, 2, r.stdout);
  await waitForJobs(ids, 600_000);
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.tomograms.map((t: { status: string }) => t.status), ['done', 'done', 'done']);
  const table = parseStar(await fs.readFile(path.join(out, 'particles.star'), 'utf8'), 'particles.star').find((t) => t.rows.length)!;
  assert.equal(table.rows.length, manifest.particles);
  assert.deepEqual(new Set(table.rows.map((row) => row[0])), new Set(SEEDS.map((s) => `TS_0${s}_tomogram`)));
  const script = await fs.readFile(path.join(out, 'slurm', 'array.sbatch'), 'utf8');
  assert.match(script, /#SBATCH --array=0-2/);
  assert.match(script, /--shard "\$\{SLURM_ARRAY_TASK_ID\}\/\$\{SLURM_ARRAY_TASK_COUNT\}"/);
});
