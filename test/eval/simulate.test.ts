import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulateTomogram, type Simulation } from '../../src/eval/simulate/simulate.js';
import { validateConfig, type SimulationConfig } from '../../src/eval/simulate/config.js';
import { PRESETS, listPresets, presetConfig } from '../../src/eval/simulate/presets.js';
import { writeSimulation } from '../../src/eval/simulate/write.js';
import { CryosamError } from '../../src/errors.js';
import { readMrc } from '../../src/io/mrc/index.js';
import { readPicks } from '../../src/io/coords/index.js';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pearson } from '../../src/volume/stats.js';

/** A small cellular scene: 3 ribosomes among smaller proteins, a vesicle and gold, wedge, band-pass, noise. */
function smallConfig(overrides: Partial<SimulationConfig> = {}): SimulationConfig {
  return {
    ...presetConfig('medium'),
    name: 'test',
    shape: [56, 96, 96],
    classes: [
      { map: '4v7r', count: 3, role: 'target' },
      { map: '1bxn', count: 3, role: 'distractor' },
      { map: '3qm1', count: 4, role: 'distractor' },
    ],
    vesicles: { count: 1, radiusNm: [10, 12], thicknessNm: 4, density: 0.6 },
    gold: { count: 2, diameterNm: [5, 10], density: 6 },
    snr: 1,
    ...overrides,
  };
}

function meanInsideOutside(sim: Simulation): { inside: number; outside: number } {
  let si = 0, ni = 0, so = 0, no = 0;
  for (let i = 0; i < sim.labels.data.length; i++) {
    if (sim.labels.data[i] > 0) {
      si += sim.tomogram.data[i];
      ni++;
    } else {
      so += sim.tomogram.data[i];
      no++;
    }
  }
  return { inside: si / ni, outside: so / no };
}

test('same seed gives identical volumes and picks; another seed does not', async () => {
  const a = await simulateTomogram(smallConfig(), { seed: 5 });
  const b = await simulateTomogram(smallConfig(), { seed: 5 });
  const c = await simulateTomogram(smallConfig(), { seed: 6 });
  assert.deepEqual(Buffer.from(a.tomogram.data.buffer), Buffer.from(b.tomogram.data.buffer));
  assert.deepEqual(Buffer.from(a.labels.data.buffer), Buffer.from(b.labels.data.buffer));
  assert.deepEqual(Buffer.from(a.instances.data.buffer), Buffer.from(b.instances.data.buffer));
  assert.deepEqual(a.picks, b.picks);
  assert.notDeepEqual(Buffer.from(a.tomogram.data.buffer), Buffer.from(c.tomogram.data.buffer));
  assert.notDeepEqual(a.picks, c.picks);
});

test('every requested particle is placed once, without overlap, and the volumes agree with the picks', async () => {
  const sim = await simulateTomogram(smallConfig(), { seed: 1 });
  assert.deepEqual(
    sim.classes.map((c) => [c.id, c.label, c.count, c.requested, c.role]),
    [['4v7r', 1, 3, 3, 'target'], ['1bxn', 2, 3, 3, 'distractor'], ['3qm1', 3, 4, 4, 'distractor']],
  );
  assert.equal(sim.picks.length, 10);
  assert.deepEqual(sim.picks.map((p) => p.instanceId).sort((x, y) => x! - y!), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(sim.vesicles.length, 1);
  assert.equal(sim.fiducials.length, 2);
  const radius = new Map(sim.classes.map((c) => [c.id, c.radiusVoxels]));
  const gap = sim.config.minGapVoxels;
  for (const [i, p] of sim.picks.entries()) {
    for (const q of sim.picks.slice(i + 1)) {
      const d = Math.hypot(p.x - q.x, p.y - q.y, p.z - q.z);
      assert.ok(d >= radius.get(p.className!)! + radius.get(q.className!)! + gap - 1e-9, 'particles overlap');
    }
    for (const v of [...sim.vesicles, ...sim.fiducials]) {
      const d = Math.hypot(p.x - v.x, p.y - v.y, p.z - v.z);
      assert.ok(d >= radius.get(p.className!)! + v.radius + gap, 'particle inside a vesicle or gold bead');
    }
  }
  const [, ny, nx] = sim.tomogram.shape;
  let centresLabelled = 0;
  for (const p of sim.picks) {
    const i = (Math.round(p.z) * ny + Math.round(p.y)) * nx + Math.round(p.x);
    const label = sim.classes.find((c) => c.id === p.className)!.label;
    if (sim.labels.data[i] === label && sim.instances.data[i] === p.instanceId) centresLabelled++;
  }
  assert.ok(centresLabelled >= 8, `${centresLabelled}/10 centres carry their own label`);
  const voxelsPerInstance = new Map<number, number>();
  for (let i = 0; i < sim.labels.data.length; i++) {
    const id = sim.instances.data[i];
    assert.equal(sim.labels.data[i] > 0, id > 0, 'labels and instances cover the same voxels');
    if (id > 0) voxelsPerInstance.set(id, (voxelsPerInstance.get(id) ?? 0) + 1);
  }
  assert.equal(voxelsPerInstance.size, 10);
  // A ribosome's iso-surface holds thousands of voxels, 3qm1's about a hundred.
  const ribosome = sim.picks.find((p) => p.className === '4v7r')!;
  const small = sim.picks.find((p) => p.className === '3qm1')!;
  assert.ok(voxelsPerInstance.get(ribosome.instanceId!)! > 3000);
  assert.ok(voxelsPerInstance.get(small.instanceId!)! < 300);
});

test('polarity: protein is darker than the background by default, brighter when flipped', async () => {
  const dark = meanInsideOutside(await simulateTomogram(smallConfig(), { seed: 2 }));
  assert.ok(dark.inside < dark.outside - 0.3, JSON.stringify(dark));
  const bright = meanInsideOutside(await simulateTomogram(smallConfig({ polarity: 'bright' }), { seed: 2 }));
  assert.ok(bright.inside > bright.outside + 0.3, JSON.stringify(bright));
});

test('SNR: noise-free and noisy tomograms of one seed correlate as √(SNR / (1 + SNR))', async () => {
  const clean = await simulateTomogram(smallConfig({ snr: null }), { seed: 3 });
  for (const snr of [0.1, 1]) {
    const noisy = await simulateTomogram(smallConfig({ snr }), { seed: 3 });
    assert.deepEqual(noisy.picks, clean.picks, 'noise does not move particles');
    const r = pearson(clean.tomogram.data, noisy.tomogram.data);
    assert.ok(Math.abs(r - Math.sqrt(snr / (1 + snr))) < 0.02, `SNR ${snr}: r = ${r}`);
  }
});

test('smoothing lowers the voxel-to-voxel roughness of the final tomogram', async () => {
  const roughness = (sim: Simulation) => {
    const d = sim.tomogram.data;
    let sum = 0;
    for (let i = 1; i < d.length; i++) sum += (d[i] - d[i - 1]) ** 2;
    return sum / (d.length - 1); // the volume is standardised, so this compares like with like
  };
  const sharp = await simulateTomogram(smallConfig(), { seed: 3 });
  const smooth = await simulateTomogram(smallConfig({ smoothingSigmaVoxels: 1.5 }), { seed: 3 });
  assert.ok(roughness(smooth) < 0.5 * roughness(sharp), `${roughness(smooth)} vs ${roughness(sharp)}`);
});

test('crowding: a volume fraction scales the counts; a full volume reports what was placed', async () => {
  const crowded = await simulateTomogram(smallConfig({ volumeFraction: 0.02, snr: null, vesicles: { count: 0, radiusNm: [10, 12], thicknessNm: 4, density: 0.6 } }), { seed: 4 });
  let protein = 0;
  for (const v of crowded.labels.data) if (v > 0) protein++;
  const fraction = protein / crowded.labels.data.length;
  assert.ok(Math.abs(fraction - 0.02) < 0.006, `protein fraction ${fraction}`);
  const full = await simulateTomogram(
    smallConfig({ classes: [{ map: '4v7r', count: 40, role: 'target' }], maxTries: 50, snr: null }),
    { seed: 4 },
  );
  assert.equal(full.classes[0].requested, 40);
  assert.ok(full.classes[0].count < 40 && full.classes[0].count === full.picks.length);
});

test('configs are validated and presets are listed from easy to large', () => {
  assert.deepEqual(
    listPresets().map((p) => p.name),
    ['easy', 'medium', 'crowded', 'realistic', 'large', 'filaments', 'membranes', 'realistic-tilt', 'hard-tilt'],
  );
  assert.deepEqual(PRESETS.realistic.shape, [160, 384, 384]);
  assert.deepEqual(PRESETS.large.shape, [200, 512, 512]);
  for (const p of listPresets()) assert.deepEqual(p.target, ['4v7r']);
  assert.throws(() => validateConfig({ ...smallConfig(), snr: -1 }), CryosamError);
  assert.throws(() => validateConfig({ ...smallConfig(), classes: [{ map: '4v7r', count: 1, role: 'target' }, { map: '4v7r', count: 1, role: 'target' }] }), /twice/);
  assert.throws(() => presetConfig('nope'), /presets: easy/);
});

test('writeSimulation writes the volumes, the picks (all and per class) and a manifest that read back', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-sim-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const sim = await simulateTomogram(smallConfig(), { seed: 9 });
  const files = await writeSimulation(sim, path.join(dir, 'a'));
  const tomogram = await readMrc(files.tomogram);
  assert.deepEqual(tomogram.shape, sim.tomogram.shape);
  assert.equal(tomogram.voxelSize.x, 10);
  assert.deepEqual(tomogram.data, sim.tomogram.data);
  assert.deepEqual(Uint8Array.from((await readMrc(files.labels)).data), sim.labels.data);
  assert.deepEqual(Int32Array.from((await readMrc(files.instances)).data), sim.instances.data);
  const frame = { voxelSize: 10, shape: sim.tomogram.shape };
  const all = await readPicks(files.picks, frame);
  assert.equal(all.length, sim.picks.length);
  for (const [i, p] of all.entries()) {
    assert.equal(p.className, sim.picks[i].className);
    assert.equal(p.instanceId, sim.picks[i].instanceId);
    assert.ok(Math.hypot(p.x - sim.picks[i].x, p.y - sim.picks[i].y, p.z - sim.picks[i].z) < 1e-3);
  }
  for (const c of sim.classes) assert.equal((await readPicks(files.picksByClass[c.id], frame)).length, c.count);
  const manifest = JSON.parse(await fs.readFile(files.manifest, 'utf8'));
  assert.equal(manifest.seed, 9);
  assert.deepEqual(manifest.classes, sim.classes);
  assert.equal(manifest.files.picksByClass['4v7r'], 'picks_4v7r.csv');
  assert.deepEqual(validateConfig(manifest.config), sim.config);

  // Same seed, same bytes on disk; STAR output for RELION users.
  const again = await writeSimulation(await simulateTomogram(smallConfig(), { seed: 9 }), path.join(dir, 'b'), { format: 'relion4' });
  assert.deepEqual(await fs.readFile(again.tomogram), await fs.readFile(files.tomogram));
  assert.deepEqual(await fs.readFile(again.labels), await fs.readFile(files.labels));
  assert.ok(again.picks.endsWith('picks_all.star'));
  assert.equal((await readPicks(again.picksByClass['1bxn'], frame)).length, 3);
});
