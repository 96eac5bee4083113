/**
 * The missing wedge of single-axis tomography. A tilt series about the y axis (beam along z)
 * measures, by the projection-slice theorem, the central planes perpendicular to each beam
 * direction; their union leaves out the Fourier components whose direction in the (kx, kz) plane
 * lies beyond the largest tilt. Subtomogram comparisons must leave those components out on both
 * sides, or particles align to each other's wedges instead of their structure.
 *
 * Convention: tilting by θ turns the beam direction to (z, x) = (cos θ, sin θ) in the specimen
 * frame, so the plane measured at θ holds the directions with atan(kz / kx) = −θ. A tilt axis along
 * x is the same with ky for kx.
 */
import { fastFftSize } from './fft.js';
import { fftFrequency, rfft3d, type TransferFunction } from './fourier.js';
import type { Volume } from './volume.js';

/** A volume axis, in the order volumes are stored (z, y, x). */
export type VolumeAxis = 'z' | 'y' | 'x';
const AXIS_INDEX: Record<VolumeAxis, number> = { z: 0, y: 1, x: 2 };

export interface TiltRange {
  /** Axis the specimen was tilted about (y in most reconstructions). */
  axis: VolumeAxis;
  /** Axis of the beam at zero tilt (z in most reconstructions); default z. */
  beam?: VolumeAxis;
  /** Lowest and highest tilt angle in degrees, e.g. −60 and 60. */
  minDeg: number;
  maxDeg: number;
}

export interface EstimatedTiltRange extends Required<TiltRange> {
  /** Mean shell-normalised power of the measured directions over the missing ones (a clear wedge is ≫ 2). */
  powerRatio: number;
}

/** The two axes of the plane a tilt series samples: the beam and the in-plane axis across the tilt axis. */
function tiltPlane(range: Pick<TiltRange, 'axis' | 'beam'>): [beam: number, across: number] {
  const tilt = AXIS_INDEX[range.axis];
  const beam = AXIS_INDEX[range.beam ?? 'z'];
  if (tilt === beam) throw new RangeError(`the tilt axis and the beam cannot both be ${range.axis}`);
  return [beam, 3 - tilt - beam];
}

/** The measured Fourier components of a tilt range: 1 where measured, 0 inside the missing wedge. */
export function measuredRegion(range: TiltRange): TransferFunction {
  const { minDeg, maxDeg } = range;
  if (!(minDeg >= -90 && maxDeg <= 90 && minDeg <= maxDeg)) {
    throw new RangeError(`tilt range must satisfy -90 ≤ min ≤ max ≤ 90 degrees, got ${minDeg}..${maxDeg}`);
  }
  const [beam, across] = tiltPlane(range);
  const lo = -maxDeg, hi = -minDeg;
  const k = [0, 0, 0];
  return (kz, ky, kx) => {
    (k[0] = kz), (k[1] = ky), (k[2] = kx);
    const kb = k[beam], ka = k[across];
    // Along the beam only a ±90° tilt measures; the tilt axis itself lies in every plane.
    if (ka === 0) return kb === 0 || lo <= -90 || hi >= 90 ? 1 : 0;
    const psi = (Math.atan(kb / ka) * 180) / Math.PI;
    return psi >= lo && psi <= hi ? 1 : 0;
  };
}

/** Side of the boxes whose power spectra are averaged, and the smallest box that still tells a wedge. */
const BOX = 64;
const MIN_BOX = 24;
/** Angular bins of the (k, kz) direction, over (−90°, 90°]. */
const BIN_DEG = 2;
const BINS = 180 / BIN_DEG;
/** Spatial frequencies used, cycles per voxel: above the lowest shells, where the box's window blurs directions. */
const BAND: [number, number] = [0.12, 0.4];
/** A wedge must at least halve the power, and leave out at least this many degrees. */
const MIN_POWER_RATIO = 2;
const MIN_MISSING_DEG = 6;
/**
 * Share of the directional variance the measured/missing split must explain: 0.9–0.98 on simulated
 * and DeepFinder tomograms, 0.1 on a single-particle map whose content merely varies with direction.
 */
const MIN_EXPLAINED = 0.5;
/** Tilt series span at least this many degrees (±30°); a narrower "measured" arc is a feature of the content, not a wedge. */
const MIN_MEASURED_DEG = 60;

/**
 * The tilt range read off the tomogram itself. The power spectra of up to 8 boxes spread through
 * the volume are averaged and each frequency shell is normalised by its mean. For each choice of
 * tilt axis and beam axis, the mean power per direction atan(k_beam / k_across) is split into one
 * measured arc and the missing rest, the split with the largest share of the variance (Otsu); the
 * choice whose split explains the most wins. Undefined when no choice shows a wedge (a tomogram
 * without one, or one too thin to tell).
 */
export function estimateTiltRange(tomogram: Volume): EstimatedTiltRange | undefined {
  const power = averagePowerSpectrum(tomogram);
  if (!power) return undefined;
  normaliseShells(power);
  let best: (EstimatedTiltRange & { explained: number }) | undefined;
  for (const axis of ['z', 'y', 'x'] as const) {
    for (const beam of (['z', 'y', 'x'] as const).filter((b) => b !== axis)) {
      const fit = fitWedge(angularProfile(power, { axis, beam }));
      if (fit && (!best || fit.explained > best.explained)) best = { axis, beam, ...fit };
    }
  }
  if (!best || best.explained < MIN_EXPLAINED) return undefined;
  const { explained: _explained, ...range } = best;
  return range;
}

interface PowerSpectrum {
  /** Half spectrum (kx ≥ 0) of the box shape, summed |F|². */
  power: Float64Array;
  shape: [number, number, number];
  nxh: number;
}

function averagePowerSpectrum(tomogram: Volume): PowerSpectrum | undefined {
  const [nz, ny, nx] = tomogram.shape;
  const box = [nz, ny, nx].map((n) => largestFastSize(Math.min(BOX, n))) as [number, number, number];
  if (box.some((b) => b < MIN_BOX)) return undefined;
  const [bz, by, bx] = box;
  const starts = [nz, ny, nx].map((n, a) => [...new Set([0.2, 0.8].map((f) => Math.round(f * (n - box[a]))))]);
  const windows = box.map(hann);
  const nxh = Math.floor(bx / 2) + 1;
  const power = new Float64Array(bz * by * nxh);
  const work = new Float32Array(bz * by * bx);
  const d = tomogram.data;
  for (const z0 of starts[0]) for (const y0 of starts[1]) for (const x0 of starts[2]) {
    let mean = 0;
    for (let z = 0; z < bz; z++) for (let y = 0; y < by; y++) {
      const row = ((z0 + z) * ny + y0 + y) * nx + x0;
      for (let x = 0; x < bx; x++) mean += d[row + x];
    }
    mean /= work.length;
    for (let z = 0, i = 0; z < bz; z++) for (let y = 0; y < by; y++) {
      const row = ((z0 + z) * ny + y0 + y) * nx + x0;
      const w = windows[0][z] * windows[1][y];
      for (let x = 0; x < bx; x++, i++) work[i] = (d[row + x] - mean) * w * windows[2][x];
    }
    const spectrum = rfft3d(work, box);
    for (let i = 0; i < power.length; i++) power[i] += spectrum.re[i] ** 2 + spectrum.im[i] ** 2;
  }
  return { power, shape: box, nxh };
}

/** Calls fn(i, kz, ky, kx, shell) for each half-spectrum component within BAND (shell: |k| in hundredths). */
function eachInBand({ shape, nxh }: PowerSpectrum, fn: (i: number, kz: number, ky: number, kx: number, shell: number) => void): void {
  const [bz, by, bx] = shape;
  for (let z = 0; z < bz; z++) {
    const kz = fftFrequency(z, bz);
    for (let y = 0; y < by; y++) {
      const ky = fftFrequency(y, by);
      for (let x = 0; x < nxh; x++) {
        const kx = x / bx;
        const r = Math.hypot(kz, ky, kx);
        if (r >= BAND[0] && r <= BAND[1]) fn((z * by + y) * nxh + x, kz, ky, kx, Math.round(r * 100));
      }
    }
  }
}

/** Divides each component within BAND by the mean power of its frequency shell, in place: the profile then weighs all shells alike. */
function normaliseShells(spectrum: PowerSpectrum): void {
  const shells = Math.ceil(BAND[1] * 100) + 1;
  const sum = new Float64Array(shells), count = new Float64Array(shells);
  eachInBand(spectrum, (i, _kz, _ky, _kx, s) => {
    sum[s] += spectrum.power[i];
    count[s]++;
  });
  eachInBand(spectrum, (i, _kz, _ky, _kx, s) => (spectrum.power[i] /= sum[s] / count[s]));
}

/** Mean shell-normalised power per direction angle atan(k_beam / k_across), in BIN_DEG bins over (−90°, 90°]. */
function angularProfile(spectrum: PowerSpectrum, range: Pick<TiltRange, 'axis' | 'beam'>): Float64Array {
  const [beam, across] = tiltPlane(range);
  const sum = new Float64Array(BINS), count = new Float64Array(BINS);
  const k = [0, 0, 0];
  eachInBand(spectrum, (i, kz, ky, kx) => {
    (k[0] = kz), (k[1] = ky), (k[2] = kx);
    const kb = k[beam], ka = k[across];
    // Directions mostly along the tilt axis say little about the wedge.
    if (Math.hypot(kb, ka) < 0.5 * Math.hypot(kz, ky, kx)) return;
    const psi = ka === 0 ? 90 : (Math.atan(kb / ka) * 180) / Math.PI;
    const bin = Math.min(BINS - 1, Math.max(0, Math.floor((psi + 90) / BIN_DEG)));
    sum[bin] += spectrum.power[i];
    count[bin]++;
  });
  return sum.map((v, i) => (count[i] > 0 ? v / count[i] : NaN));
}

/**
 * The measured arc of bins [i, j] that best splits the profile from the rest (largest share of the
 * variance explained), as a tilt range, with that share.
 */
function fitWedge(profile: Float64Array): { minDeg: number; maxDeg: number; powerRatio: number; explained: number } | undefined {
  const bins = Array.from(profile.keys()).filter((i) => Number.isFinite(profile[i]));
  if (bins.length < BINS / 2) return undefined;
  const total = bins.reduce((s, i) => s + profile[i], 0);
  const grand = total / bins.length;
  const variance = bins.reduce((s, i) => s + (profile[i] - grand) ** 2, 0);
  let best = { score: -1, i: 0, j: 0, inside: 0, outside: 0 };
  for (let i = 0; i < BINS; i++) {
    let sumIn = 0, nIn = 0;
    for (let j = i; j < BINS; j++) {
      if (Number.isFinite(profile[j])) (sumIn += profile[j]), nIn++;
      const nOut = bins.length - nIn;
      if ((j - i + 1) * BIN_DEG < MIN_MEASURED_DEG || nOut * BIN_DEG < MIN_MISSING_DEG) continue;
      const inside = sumIn / nIn, outside = (total - sumIn) / nOut;
      const score = nIn * nOut * (inside - outside) ** 2;
      if (inside > outside && score > best.score) best = { score, i, j, inside, outside };
    }
  }
  const powerRatio = best.outside > 0 ? best.inside / best.outside : Infinity;
  if (best.score < 0 || !(variance > 0) || powerRatio < MIN_POWER_RATIO) return undefined;
  // Measured directions atan(k_beam / k_across) in [a, b] are the tilts −b..−a.
  const a = -90 + best.i * BIN_DEG, b = -90 + (best.j + 1) * BIN_DEG;
  return { minDeg: -b, maxDeg: -a, powerRatio, explained: best.score / bins.length / variance };
}

function hann(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n));
}

function largestFastSize(n: number): number {
  for (let m = n; m > 1; m--) if (fastFftSize(m) === m) return m;
  return 1;
}
