import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simulateTomogram } from '../../src/eval/simulate/simulate.js';
import { validateConfig, type SimulationConfig, type TiltSeriesConfig } from '../../src/eval/simulate/config.js';
import { PRESETS, presetConfig } from '../../src/eval/simulate/presets.js';
import { Rng } from '../../src/eval/simulate/rng.js';
import {
  DEFAULT_TILT_SERIES,
  ctfValue,
  doseSymmetricOrder,
  imageTiltSeries,
  tiltAnglesDeg,
} from '../../src/eval/simulate/tilt-series.js';
import { simulationConfigFromOptions } from '../../src/cli/simulate.js';
import { CryosamError } from '../../src/errors.js';
import { fftFrequency, rfft3d } from '../../src/volume/fourier.js';
import { estimateTiltRange } from '../../src/volume/missing-wedge.js';
import { createVolume, type Shape3, type Volume } from '../../src/volume/volume.js';
import { runCli } from '../helpers/cli.js';
import { pearson } from '../../src/volume/stats.js';

const VOXEL_A = 10;

function tilt(overrides: Partial<TiltSeriesConfig> = {}): TiltSeriesConfig {
  return { ...DEFAULT_TILT_SERIES, ...overrides };
}

/** White Gaussian density: power at every frequency, so spectra show what the imaging did. */
function whiteVolume(shape: Shape3, seed: number): Volume {
  const v = createVolume(shape, VOXEL_A);
  const rng = new Rng(seed);
  for (let i = 0; i < v.data.length; i++) v.data[i] = rng.normal();
  return v;
}

function copy(v: Volume): Volume {
  return { ...v, data: v.data.slice() };
}

/** Signed correlation of two volumes' Fourier components with |k| in [lo, hi) cycles per voxel. */
function shellCorrelation(a: Volume, b: Volume, lo: number, hi: number): number {
  const fa = rfft3d(a.data, a.shape), fb = rfft3d(b.data, b.shape);
  const [nz, ny, nx] = a.shape;
  let cross = 0, pa = 0, pb = 0;
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < fa.nxh; x++) {
    const r = Math.hypot(fftFrequency(z, nz), fftFrequency(y, ny), x / nx);
    if (r < lo || r >= hi) continue;
    const i = (z * ny + y) * fa.nxh + x;
    cross += fa.re[i] * fb.re[i] + fa.im[i] * fb.im[i];
    pa += fa.re[i] ** 2 + fa.im[i] ** 2;
    pb += fb.re[i] ** 2 + fb.im[i] ** 2;
  }
  return cross / Math.sqrt(pa * pb);
}

/**
 * Full width at half maximum of the central blob along one axis (step = index stride), from the
 * centre out to where the value first falls below half the centre's (linear interpolation).
 */
function halfMaxWidth(data: Float32Array, centre: number, step: number, reach: number): number {
  const peak = data[centre];
  let width = 0;
  for (const dir of [-1, 1]) {
    for (let i = 1; i <= reach; i++) {
      const inner = data[centre + dir * (i - 1) * step] / peak, outer = data[centre + dir * i * step] / peak;
      if (outer < 0.5) {
        width += i - 1 + (inner - 0.5) / (inner - outer);
        break;
      }
    }
  }
  return width;
}

const hash = (a: Float32Array | Uint8Array | Int32Array) =>
  createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 16);

test('tilt angles and the dose-symmetric order: 0, +3, −3, +6, −6, …', () => {
  const angles = tiltAnglesDeg(DEFAULT_TILT_SERIES);
  assert.equal(angles.length, 41);
  assert.equal(angles[0], -60);
  assert.equal(angles[40], 60);
  const order = doseSymmetricOrder(angles);
  const byPosition = Array.from(order.keys()).sort((a, b) => order[a] - order[b]).map((t) => angles[t]);
  assert.deepEqual(byPosition.slice(0, 5), [0, 3, -3, 6, -6]);
  assert.deepEqual(byPosition.slice(-2), [60, -60]);
  // The first CTF zero at 3 µm lies near 1/24 Å⁻¹, inside Nyquist at 10 Å/voxel (1/20 Å⁻¹).
  assert.ok(ctfValue(1 / 25 ** 2, 3e4) > 0 && ctfValue(1 / 23 ** 2, 3e4) < 0);
  assert.throws(() => tiltAnglesDeg({ minDeg: -60, maxDeg: 60, stepDeg: 0.01 }), CryosamError);
});

test('a point-like object back-projects elongated along the beam (z), not across it (x)', () => {
  const [nz, ny, nx] = [48, 8, 64];
  const v = createVolume([nz, ny, nx], VOXEL_A);
  const [cz, cy, cx] = [24, 4, 32];
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    v.data[(z * ny + y) * nx + x] = -Math.exp(-((z - cz) ** 2 + (x - cx) ** 2) / (2 * 2 ** 2));
  }
  imageTiltSeries(v, tilt({ dosePerTiltE: 0 }), { voxelSizeA: VOXEL_A, snr: null, rng: new Rng(1) });
  const centre = (cz * ny + cy) * nx + cx;
  const alongZ = halfMaxWidth(v.data, centre, ny * nx, 12), alongX = halfMaxWidth(v.data, centre, 1, 12);
  // A ±60° series elongates by √((α + sin α cos α) / (α − sin α cos α)) ≈ 1.55 (Radermacher 1988).
  assert.ok(alongZ > 1.3 * alongX && alongZ < 2 * alongX, `half-maximum width along z ${alongZ.toFixed(2)}, along x ${alongX.toFixed(2)}`);
});

test('the missing wedge of the reconstruction is the tilt range (estimateTiltRange)', () => {
  for (const maxDeg of [60, 40]) {
    const v = whiteVolume([64, 64, 64], 2);
    imageTiltSeries(v, tilt({ minDeg: -maxDeg, maxDeg }), { voxelSizeA: VOXEL_A, snr: 1, rng: new Rng(3) });
    const range = estimateTiltRange(v);
    assert.ok(range, `no wedge found for ±${maxDeg}°`);
    assert.equal(range.axis, 'y');
    assert.equal(range.beam, 'z');
    assert.ok(Math.abs(range.maxDeg - maxDeg) <= 4 && Math.abs(range.minDeg + maxDeg) <= 4, `±${maxDeg}° estimated as ${range.minDeg}..${range.maxDeg}`);
  }
});

test('without CTF correction the phase flips are in the data; phase flipping removes them', () => {
  const truth = whiteVolume([48, 64, 64], 4);
  const imaged = (phaseFlip: boolean) => {
    const v = copy(truth);
    imageTiltSeries(v, tilt({ phaseFlip }), { voxelSizeA: VOXEL_A, snr: null, rng: new Rng(5) });
    return v;
  };
  // At 3 ± 0.2 µm the first zero lies at 0.40–0.42 cycles/voxel and the second beyond Nyquist.
  const raw = imaged(false), flipped = imaged(true);
  const low = (v: Volume) => shellCorrelation(v, truth, 0.12, 0.3);
  const beyondZero = (v: Volume) => shellCorrelation(v, truth, 0.44, 0.5);
  assert.ok(low(raw) > 0.3, `low band ${low(raw)}`);
  assert.ok(beyondZero(raw) < -0.1, `beyond the first zero, uncorrected: ${beyondZero(raw)}`);
  assert.ok(low(flipped) > 0.3, `low band, flipped ${low(flipped)}`);
  assert.ok(beyondZero(flipped) > 0.1, `beyond the first zero, flipped: ${beyondZero(flipped)}`);
});

test('the SIRT-like filter keeps less of the high frequencies than R-weighting', () => {
  const scene = whiteVolume([32, 48, 48], 8);
  const highOverLow = (sirtLikeIterations: number | null) => {
    const v = copy(scene);
    imageTiltSeries(v, tilt({ sirtLikeIterations }), { voxelSizeA: VOXEL_A, snr: null, rng: new Rng(9) });
    const f = rfft3d(v.data, v.shape);
    const [nz, ny, nx] = v.shape;
    let low = 0, high = 0;
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < f.nxh; x++) {
      const r = Math.hypot(fftFrequency(z, nz), fftFrequency(y, ny), x / nx);
      const p = f.re[(z * ny + y) * f.nxh + x] ** 2 + f.im[(z * ny + y) * f.nxh + x] ** 2;
      if (r >= 0.05 && r < 0.12) low += p;
      else if (r >= 0.2 && r < 0.3) high += p;
    }
    return high / low;
  };
  const ramp = highOverLow(null), sirt = highOverLow(10);
  assert.ok(sirt < 0.7 * ramp, `high/low power: SIRT-like ${sirt.toFixed(3)}, R-weighting ${ramp.toFixed(3)}`);
});

test('SNR is measured on the reconstruction: noise-free and noisy correlate as √(SNR / (1 + SNR))', () => {
  const scene = whiteVolume([32, 48, 48], 6);
  const clean = copy(scene), noisy = copy(scene);
  imageTiltSeries(clean, tilt(), { voxelSizeA: VOXEL_A, snr: null, rng: new Rng(7) });
  imageTiltSeries(noisy, tilt(), { voxelSizeA: VOXEL_A, snr: 0.5, rng: new Rng(7) });
  const r = pearson(clean.data, noisy.data);
  assert.ok(Math.abs(r - Math.sqrt(0.5 / 1.5)) < 0.03, `correlation ${r}`);
});

/** A small tilt-series scene: ribosomes, small proteins, a vesicle and gold. */
function smallTiltConfig(): SimulationConfig {
  return {
    ...presetConfig('realistic-tilt'),
    shape: [40, 80, 80],
    classes: [
      { map: '4v7r', count: 2, role: 'target' },
      { map: '1bxn', count: 3, role: 'distractor' },
    ],
    vesicles: { count: 1, radiusNm: [10, 12], thicknessNm: 4, density: 0.6 },
    gold: { count: 1, diameterNm: [5, 10], density: 6 },
    snr: 0.5,
  };
}

test('tilt-series simulations are deterministic for a seed; the ground truth is that of the Fourier imaging', async () => {
  const a = await simulateTomogram(smallTiltConfig(), { seed: 11 });
  const b = await simulateTomogram(smallTiltConfig(), { seed: 11 });
  const c = await simulateTomogram(smallTiltConfig(), { seed: 12 });
  assert.deepEqual(a.tomogram.data, b.tomogram.data);
  assert.deepEqual(a.picks, b.picks);
  assert.notDeepEqual(a.tomogram.data, c.tomogram.data);
  const fourier = await simulateTomogram({ ...smallTiltConfig(), tiltSeries: null }, { seed: 11 });
  assert.deepEqual(fourier.labels.data, a.labels.data);
  assert.deepEqual(fourier.instances.data, a.instances.data);
  assert.deepEqual(fourier.picks, a.picks);
  assert.notDeepEqual(fourier.tomogram.data, a.tomogram.data);
});

test('existing presets give the same tomograms, labels and picks as before tilt series existed', async () => {
  // Hashes computed on the code before the tilt-series mode (commit e91f766), seed 3.
  const expected: Record<string, { shape: [number, number, number]; hashes: Record<string, string> }> = {
    easy: { shape: [40, 64, 64], hashes: { tomogram: 'cd2df8b2319edd53', labels: '49228e3a715fe567', instances: '356d261e5a7de238', picks: 'f688dbead8d5d199' } },
    medium: { shape: [48, 80, 80], hashes: { tomogram: 'a8edebc0e523d472', labels: 'b8c0a025cc325484', instances: 'c6b381ede49dac5f', picks: 'b37648bc87a1715c' } },
  };
  for (const [name, { shape, hashes }] of Object.entries(expected)) {
    const sim = await simulateTomogram({ ...presetConfig(name), shape }, { seed: 3 });
    assert.deepEqual(
      {
        tomogram: hash(sim.tomogram.data),
        labels: hash(sim.labels.data),
        instances: hash(sim.instances.data),
        picks: createHash('sha256').update(JSON.stringify(sim.picks)).digest('hex').slice(0, 16),
      },
      hashes,
      name,
    );
    assert.equal('tiltSeries' in sim.config, false, `${name}'s config gains no tiltSeries key`);
  }
});

test('tilt presets share their scenes; configs without tiltSeries still validate', () => {
  const { tiltSeries, name, ...scene } = PRESETS['realistic-tilt'];
  const { name: _n, ...realistic } = PRESETS.realistic;
  assert.equal(name, 'realistic-tilt');
  assert.deepEqual(scene, realistic);
  assert.deepEqual(tiltSeries, DEFAULT_TILT_SERIES);
  assert.deepEqual(PRESETS['hard-tilt'].classes, PRESETS.crowded.classes);
  assert.equal(PRESETS['hard-tilt'].volumeFraction, PRESETS.crowded.volumeFraction);
  assert.equal(PRESETS['hard-tilt'].tiltSeries?.phaseFlip, false);
  const { tiltSeries: _t, ...legacy } = PRESETS['realistic-tilt'];
  assert.equal(validateConfig(legacy).tiltSeries, undefined);
  assert.throws(() => validateConfig({ ...legacy, tiltSeries: { ...DEFAULT_TILT_SERIES, minDeg: 10, maxDeg: -10 } }), CryosamError);
});

test('CLI: --tilt-series and its options set the tilt series; --help explains it', async (t) => {
  const config = await simulationConfigFromOptions({ preset: 'medium', seed: 1, tiltSeries: true, wedge: 45, defocus: 4, tiltStep: 5, phaseFlip: true, dose: 2 });
  assert.deepEqual(config.tiltSeries, { ...DEFAULT_TILT_SERIES, minDeg: -45, maxDeg: 45, defocusUm: 4, stepDeg: 5, phaseFlip: true, dosePerTiltE: 2 });
  assert.equal(config.tiltRangeDeg, 45);
  const preset = await simulationConfigFromOptions({ preset: 'realistic-tilt', seed: 1, wedge: 50 });
  assert.equal(preset.tiltSeries?.maxDeg, 50);
  await assert.rejects(simulationConfigFromOptions({ preset: 'realistic-tilt', seed: 1, defocus: null }), CryosamError);
  assert.equal((await simulationConfigFromOptions({ preset: 'medium', seed: 1 })).tiltSeries, undefined);

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-simtilt-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const args = ['--shape', '32,48,48', '--classes', '1bxn:2,3qm1:2', '--target', '1bxn', '--tilt-series', '--tilt-step', '6', '--quiet'];
  const run = await runCli(['simulate', path.join(dir, 'a'), ...args]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /tilt series -60\.\.60° every 6° \(21 tilts/);
  assert.match(run.stdout, /no CTF correction/);
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'a', 'simulation.json'), 'utf8'));
  assert.equal(manifest.config.tiltSeries.stepDeg, 6);
  const again = await runCli(['simulate', path.join(dir, 'b'), ...args]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await fs.readFile(path.join(dir, 'a', 'tomogram.mrc')), await fs.readFile(path.join(dir, 'b', 'tomogram.mrc')));
  const help = await runCli(['simulate', '--help']);
  assert.match(help.stdout, /--tilt-series/);
  assert.match(help.stdout, /--phase-flip/);
  assert.match(help.stdout, /e⁻\/Å²/);
  assert.match(help.stdout, /realistic-tilt/);
});
