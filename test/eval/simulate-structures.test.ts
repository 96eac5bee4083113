import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simulateTomogram, type Simulation } from '../../src/eval/simulate/simulate.js';
import { validateConfig, NO_FILAMENTS, NO_SHEETS, type SimulationConfig } from '../../src/eval/simulate/config.js';
import { presetConfig, PRESETS } from '../../src/eval/simulate/presets.js';
import { AXIS_STEP, FILAMENT_LABEL, MIN_CURVATURE_RADIUS_NM, planFilament, PolylineDistance } from '../../src/eval/simulate/filaments.js';
import { drawMembrane, MEMBRANE_LABEL, surfaceDistance, type MembraneSurface } from '../../src/eval/simulate/membranes.js';
import { structureWedge, type StructureVolumes } from '../../src/eval/simulate/scene.js';
import { Rng } from '../../src/eval/simulate/rng.js';
import { isotropic, type Shape3 } from '../../src/volume/volume.js';
import { readMrc } from '../../src/io/mrc/index.js';
import { parseStar } from '../../src/io/coords/star.js';
import { runCli } from '../helpers/cli.js';

const hash = (a: ArrayBufferView) => createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 16);

function hashes(sim: Simulation) {
  return {
    tomogram: hash(sim.tomogram.data),
    labels: hash(sim.labels.data),
    instances: hash(sim.instances.data),
    picks: createHash('sha256').update(JSON.stringify(sim.picks)).digest('hex').slice(0, 16),
  };
}

test('existing presets give the same tomogram, labels, instances and picks as before filaments and membranes', async () => {
  // Reference hashes computed on the simulator before structures were added (commit e91f766), seed 3.
  const easy = presetConfig('easy');
  easy.shape = [40, 56, 56];
  const a = await simulateTomogram(easy, { seed: 3 });
  assert.deepEqual(hashes(a), { tomogram: '8025b507cf666a32', labels: 'bdc3aa40d8b91665', instances: 'd1d5b4baaf1b9b23', picks: 'ef7bcde88dc135d0' });
  assert.equal(a.structures, undefined);

  const medium = presetConfig('medium');
  medium.shape = [48, 80, 80];
  const b = await simulateTomogram(medium, { seed: 3 });
  assert.deepEqual(hashes(b), { tomogram: 'a8edebc0e523d472', labels: 'b8c0a025cc325484', instances: 'c6b381ede49dac5f', picks: 'b37648bc87a1715c' });

  // A config read from JSON written before the new fields existed, with two vesicles placed.
  const old: Record<string, unknown> = { ...presetConfig('medium'), shape: [64, 96, 96], vesicles: { count: 2, radiusNm: [10, 14], thicknessNm: 4.5, density: 0.6 } };
  delete old.filaments;
  delete old.sheets;
  const cfg = validateConfig(JSON.parse(JSON.stringify(old)));
  assert.deepEqual(cfg.filaments, NO_FILAMENTS);
  assert.deepEqual(cfg.sheets, NO_SHEETS);
  const c = await simulateTomogram(cfg, { seed: 3 });
  assert.equal(c.vesicles.length, 2);
  assert.deepEqual(hashes(c), { tomogram: '3433e4078802dd6b', labels: '173f28bf860b9890', instances: 'ee8b8cd8ae91e202', picks: 'a0f1a052559d9486' });
  // The vesicles are membrane truth now.
  assert.deepEqual(c.structures?.membranes.map((m) => m.kind), ['vesicle', 'vesicle']);
  for (const name of ['easy', 'medium', 'crowded', 'realistic', 'large']) {
    assert.deepEqual(PRESETS[name].filaments, NO_FILAMENTS, name);
    assert.deepEqual(PRESETS[name].sheets, NO_SHEETS, name);
  }
});

/** A small noise-free scene, protein bright, so densities can be read off the tomogram. */
function smallScene(overrides: Partial<SimulationConfig> = {}): SimulationConfig {
  return validateConfig({
    ...presetConfig('filaments'),
    name: 'test',
    shape: [48, 64, 64],
    classes: [{ map: '3qm1', count: 3, role: 'target' }],
    filaments: { microtubules: 2, actin: 2, lengthNm: [60, 120], curved: 0.5, density: 1 },
    polarity: 'bright',
    tiltRangeDeg: null,
    ctf: null,
    snr: null,
    ...overrides,
  });
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** Median: the axis of a tube crossed by another filament is dense at the crossing. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

test('filaments are drawn where their truth says: hollow microtubules, solid actin', async () => {
  const sim = await simulateTomogram(smallScene(), { seed: 11 });
  const s = sim.structures!;
  assert.deepEqual(s.filaments.map((f) => f.kind), ['microtubule', 'microtubule', 'actin', 'actin']);
  const [nz, ny, nx] = sim.tomogram.shape;
  const data = sim.tomogram.data;
  let background = 0, nb = 0;
  for (let i = 0; i < data.length; i++) if (s.labels.data[i] === 0 && sim.labels.data[i] === 0) (background += data[i]), nb++;
  background /= nb;
  for (const f of s.filaments) {
    const n = f.axis.length / 3;
    assert.equal(f.length, (n - 1) * AXIS_STEP);
    const onAxis: number[] = [];
    for (let i = 0; i < n; i++) {
      const [x, y, z] = [f.axis[3 * i], f.axis[3 * i + 1], f.axis[3 * i + 2]];
      assert.ok(x >= 0 && x <= nx - 1 && y >= 0 && y <= ny - 1 && z >= 0 && z <= nz - 1, 'axis inside the tomogram');
      if (i > 0) assert.ok(Math.hypot(x - f.axis[3 * i - 3], y - f.axis[3 * i - 2], z - f.axis[3 * i - 1]) <= 1);
      onAxis.push(data[(Math.round(z) * ny + Math.round(y)) * nx + Math.round(x)]);
    }
    // Truth voxels lie in the wall, between the radii, and are dense.
    const distance = new PolylineDistance(f.axis);
    const wall: number[] = [];
    for (let i = 0; i < data.length; i++) {
      if (s.instances.data[i] !== f.id) continue;
      const x = i % nx, y = Math.floor(i / nx) % ny, z = Math.floor(i / (nx * ny));
      const d = distance.distance(x, y, z);
      assert.ok(d >= f.innerRadius - AXIS_STEP && d <= f.outerRadius + AXIS_STEP, `${f.kind} truth voxel at ${d.toFixed(2)} from the axis`);
      assert.equal(s.labels.data[i], FILAMENT_LABEL);
      wall.push(data[i]);
    }
    assert.ok(wall.length > 0);
    const wallMean = mean(wall), axisMean = median(onAxis);
    assert.ok(wallMean > background + 0.5 * (wallMean - background) && wallMean > background, `${f.kind} wall is dense`);
    if (f.kind === 'microtubule') {
      assert.equal(f.innerRadius, 7.5);
      assert.equal(f.outerRadius, 12.5);
      assert.ok([13, 14].includes(f.protofilaments));
      // The lumen is empty: the axis is at background level, far below the wall.
      assert.ok(axisMean - background < 0.1 * (wallMean - background), `lumen ${axisMean} vs wall ${wallMean}, background ${background}`);
    } else {
      assert.equal(f.innerRadius, 0);
      assert.equal(f.outerRadius, 3.5);
      assert.ok(axisMean - background > 0.8 * (wallMean - background), 'actin is solid');
    }
  }
  // Particles keep clear of the filaments.
  for (let i = 0; i < data.length; i++) assert.ok(!(s.labels.data[i] && sim.labels.data[i]), 'a particle overlaps a filament');
});

test('curved filaments keep their radius of curvature; directions include in-plane and oblique ones', () => {
  const shape: Shape3 = [128, 256, 256];
  const rng = new Rng(5);
  let inPlane = 0, oblique = 0, curved = 0;
  for (let k = 0; k < 60; k++) {
    const planned = planFilament(1, k % 2 ? 'microtubule' : 'actin', 300, k % 3 !== 0, 1, shape, rng);
    if (!planned) continue;
    const { axis, curvatureRadius } = planned.filament;
    const n = axis.length / 3;
    const p = (i: number) => [axis[3 * i], axis[3 * i + 1], axis[3 * i + 2]];
    const span = 20;
    let minRadius = Infinity;
    for (let i = span; i + span < n; i += span) {
      const [a, b, c] = [p(i - span), p(i), p(i + span)];
      const u = a.map((v, j) => v - b[j]), v = c.map((w, j) => w - b[j]), w = c.map((x, j) => x - a[j]);
      const cr = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
      const area2 = Math.hypot(...cr);
      const r = area2 < 1e-9 ? Infinity : (Math.hypot(...u) * Math.hypot(...v) * Math.hypot(...w)) / (2 * area2);
      minRadius = Math.min(minRadius, r);
    }
    if (curvatureRadius === null) {
      assert.ok(minRadius > 1e5, 'straight filament is straight');
    } else {
      curved++;
      assert.ok(curvatureRadius >= MIN_CURVATURE_RADIUS_NM);
      assert.ok(minRadius >= MIN_CURVATURE_RADIUS_NM * 0.999 && Math.abs(minRadius - curvatureRadius) < 0.01 * curvatureRadius, `radius ${minRadius}`);
    }
    const dz = Math.abs(axis[axis.length - 1] - axis[2]) / Math.hypot(axis[axis.length - 3] - axis[0], axis[axis.length - 2] - axis[1], axis[axis.length - 1] - axis[2]);
    if (dz < Math.sin((12 * Math.PI) / 180)) inPlane++;
    else oblique++;
  }
  assert.ok(curved > 10 && inPlane > 10 && oblique > 5, `curved ${curved}, in-plane ${inPlane}, oblique ${oblique}`);
});

function emptyTruth(shape: Shape3): StructureVolumes {
  const n = shape[0] * shape[1] * shape[2];
  return {
    labels: { data: new Uint8Array(n), shape, voxelSize: isotropic(10) },
    instances: { data: new Int32Array(n), shape, voxelSize: isotropic(10) },
    measured: new Uint8Array(n),
  };
}

test("membranes' measured flags follow the missing wedge of their normals", () => {
  const shape: Shape3 = [32, 48, 48];
  const wedge = structureWedge({ ...presetConfig('membranes'), tiltRangeDeg: 60 });
  const sheet = (normal: [number, number, number]): MembraneSurface => ({ type: 'plane', point: [24, 24, 16], normal, patchRadius: null });
  const draw = (surface: MembraneSurface, noWedge = false) => {
    const truth = emptyTruth(shape);
    const target = new Float32Array(truth.measured.length);
    const counts = drawMembrane({ id: 3, kind: 'flat', thickness: 4.5, surface }, 0.6, target, shape, truth, noWedge ? undefined : wedge);
    return { ...counts, truth, target };
  };
  const faceOn = draw(sheet([0, 0, 1]));
  assert.equal(faceOn.voxels, 48 * 48 * 5);
  assert.equal(faceOn.measuredVoxels, 0, 'a sheet seen face-on (normal along z) falls in the wedge');
  const sideOn = draw(sheet([1, 0, 0]));
  assert.equal(sideOn.measuredVoxels, sideOn.voxels, 'a sheet with its normal along x is measured');
  const alongTiltAxis = draw(sheet([0, 1, 0]));
  assert.equal(alongTiltAxis.measuredVoxels, alongTiltAxis.voxels, 'normal along the tilt axis is measured');
  assert.equal(draw(sheet([0, 0, 1]), true).measuredVoxels, faceOn.voxels, 'without a wedge everything is measured');
  // Truth = coverage ≥ 0.5: exactly the voxels within half the thickness; density only near the slab.
  const { truth, target } = sideOn;
  for (let i = 0; i < target.length; i++) {
    const x = i % 48;
    const d = Math.abs(x - 24);
    assert.equal(truth.labels.data[i] === MEMBRANE_LABEL, d <= 2.25, `x ${x}`);
    assert.equal(truth.instances.data[i] === 3, d <= 2.25);
    assert.equal(target[i] > 0, d < 2.75);
  }
  // A sphere: measured where the normal is away from z, not at the poles.
  const sphere = draw({ type: 'sphere', centre: [24, 24, 16], radius: 12 });
  const poleIndex = ((16 + 12) * 48 + 24) * 48 + 24, equatorIndex = (16 * 48 + 24) * 48 + 24 + 12;
  assert.equal(sphere.truth.measured[poleIndex], 0);
  assert.equal(sphere.truth.measured[equatorIndex], 1);
  const fraction = sphere.measuredVoxels / sphere.voxels;
  assert.ok(fraction > 0.5 && fraction < 0.95, `measured fraction ${fraction}`);
});

test('sheets with proteins on them: truth along the surface, proteins touching, no overlaps; deterministic', async () => {
  const cfg = smallScene({
    shape: [48, 96, 96],
    classes: [{ map: '4v7r', count: 1, role: 'target' }, { map: '3qm1', count: 2, role: 'distractor' }],
    filaments: NO_FILAMENTS,
    vesicles: { count: 1, radiusNm: [10, 12], thicknessNm: 4.5, density: 0.6 },
    sheets: { ...NO_SHEETS, flat: 1, curved: 1, proteins: 3, proteinMaps: ['3qm1'] },
    tiltRangeDeg: 60,
  });
  const sim = await simulateTomogram(cfg, { seed: 4 });
  const s = sim.structures!;
  assert.deepEqual(s.membranes.map((m) => m.kind), ['vesicle', 'curved', 'flat']);
  assert.deepEqual(s.membranes.map((m) => m.id), [1, 2, 3]);
  const [, ny, nx] = cfg.shape;
  const sheets = s.membranes.filter((m) => m.kind !== 'vesicle');
  for (const m of sheets) {
    let n = 0, measured = 0;
    for (let i = 0; i < s.instances.data.length; i++) {
      if (s.instances.data[i] !== m.id) continue;
      n++;
      measured += s.measured[i];
      const x = i % nx, y = Math.floor(i / nx) % ny, z = Math.floor(i / (nx * ny));
      assert.ok(surfaceDistance(m.surface, x, y, z) <= m.thickness / 2 + 1e-9);
    }
    assert.equal(n, m.voxels);
    assert.equal(measured, m.measuredVoxels);
  }
  // Measured flags only on membrane voxels.
  for (let i = 0; i < s.measured.length; i++) if (s.measured[i]) assert.equal(s.labels.data[i], MEMBRANE_LABEL);
  // 3 proteins on each of the 2 sheets, touching one of them.
  const small = sim.classes.find((c) => c.id === '3qm1')!;
  assert.equal(small.requested, 2 + 6);
  const onSheet = sim.picks.filter((p) => p.className === '3qm1' && sheets.some((m) => Math.abs(surfaceDistance(m.surface, p.x, p.y, p.z) - m.thickness / 2 - small.radiusVoxels) < 0.05));
  assert.ok(onSheet.length >= 4, `${onSheet.length} proteins touch a sheet`);
  for (let i = 0; i < s.labels.data.length; i++) assert.ok(!(s.labels.data[i] && sim.labels.data[i]), 'a particle overlaps a membrane');

  const again = await simulateTomogram(cfg, { seed: 4 });
  assert.deepEqual(again.tomogram.data, sim.tomogram.data);
  assert.deepEqual(again.structures!.instances.data, s.instances.data);
  assert.deepEqual(again.structures!.measured, s.measured);
  assert.deepEqual(again.picks, sim.picks);
  const other = await simulateTomogram(cfg, { seed: 5 });
  assert.notDeepEqual(other.structures!.instances.data, s.instances.data);
});

test('the filaments and membranes presets place everything they ask for', async () => {
  for (const name of ['filaments', 'membranes']) {
    const cfg = presetConfig(name);
    const sim = await simulateTomogram(cfg, { seed: 1 });
    const s = sim.structures!;
    assert.equal(s.filaments.length, cfg.filaments.microtubules + cfg.filaments.actin, name);
    assert.equal(s.membranes.length, cfg.vesicles.count + cfg.sheets.flat + cfg.sheets.curved, name);
    for (const c of sim.classes) assert.equal(c.count, c.requested, `${name} ${c.id}`);
  }
});

test('cryosam simulate --preset filaments writes the structure truth', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-simstruct-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'out');
  const r = await runCli(['simulate', out, '--preset', 'filaments', '--shape', '40,64,64', '--classes', '3qm1:2', '--target', '3qm1', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /microtubules: \d\/4, actin: \d\/4/);
  const list = JSON.parse(await fs.readFile(path.join(out, 'structures.json'), 'utf8'));
  assert.ok(list.filaments.length > 0);
  for (const f of list.filaments) assert.ok(['microtubule', 'actin'].includes(f.kind) && f.outerRadius > 0 && f.length > 0);
  const instances = await readMrc(path.join(out, 'structures.mrc'));
  assert.deepEqual(instances.shape, [40, 64, 64]);
  const labels = await readMrc(path.join(out, 'structure_labels.mrc'));
  assert.ok(labels.data.some((v) => v === 1));
  const measured = await readMrc(path.join(out, 'membrane_measured.mrc'));
  assert.ok(measured.data.every((v) => v === 0), 'no membranes here');
  const [star] = parseStar(await fs.readFile(path.join(out, 'filaments.star'), 'utf8'));
  assert.deepEqual(star.columns, ['rlnCoordinateX', 'rlnCoordinateY', 'rlnCoordinateZ', 'rlnHelicalTubeID', 'rlnHelicalTrackLengthAngst']);
  const ids = new Set(star.rows.map((row) => Number(row[3])));
  assert.deepEqual([...ids], list.filaments.map((f: { id: number }) => f.id));
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'simulation.json'), 'utf8'));
  assert.equal(manifest.files.structures.filaments, 'filaments.star');
});
