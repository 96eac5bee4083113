/**
 * Tilt-series imaging: a tomogram as real ones are made. The scene (density after polarity) is
 * projected at every tilt about y; each projection gets the CTF of its own defocus (phase flips
 * included: at 10 Å/voxel the first zero, near 1/24 Å⁻¹ at 3 µm, lies inside Nyquist), the
 * radiation damage of the exposure accumulated before it (dose-symmetric order) and white detector
 * noise; the tomogram is the weighted back-projection of the projections, optionally phase-flipped
 * first. Back-projection gives the missing wedge, streaks and elongation along the beam by itself.
 *
 * Geometry (as in src/volume/missing-wedge.ts): tilting by θ turns the beam to (z, x) = (cos θ, sin θ),
 * so a voxel at centred (z, x) lands on the detector at u = x·cos θ − z·sin θ, row y. Each y slice is
 * an independent 2D problem in (z, x), which projection and back-projection run slice by slice.
 *
 * SNR keeps its meaning of the Fourier imaging (noise.ts): variance of the noise-free reconstruction /
 * variance of the reconstructed noise, over the whole volume. Both are reconstructed separately (the
 * imaging is linear) and the noise is scaled afterwards, which is the same as giving every projection
 * white noise of the one standard deviation that yields that SNR.
 *
 * Not modelled: the defocus gradient across a tilted image, astigmatism, the thickening of the
 * specimen at high tilt, the detector's MTF, and alignment errors.
 *
 * Memory: the projections of the signal and of the noise (2 × tilts × ny × nu float32, nu ≈ the
 * widest tilted footprint), one ny × 2nu work image, and a noise volume beside the tomogram.
 */
import { CryosamError } from '../../errors.js';
import type { ProgressCallback } from '../../progress.js';
import { fastFftSize } from '../../volume/fft.js';
import { applyFourierFilter } from '../../volume/fourier.js';
import { isotropic, type Shape3, type Volume } from '../../volume/volume.js';
import type { TiltSeriesConfig } from './config.js';
import { addNoiseAtSnr } from './noise.js';
import type { Rng } from './rng.js';

/** The tilt series `--tilt-series` applies: ±60° every 3°, 3 ± 0.2 µm underfocus, 3 e⁻/Å² per tilt, no CTF correction, R-weighting. */
export const DEFAULT_TILT_SERIES: Readonly<TiltSeriesConfig> = Object.freeze({
  minDeg: -60,
  maxDeg: 60,
  stepDeg: 3,
  defocusUm: 3,
  defocusSpreadUm: 0.2,
  dosePerTiltE: 3,
  phaseFlip: false,
  sirtLikeIterations: null,
});

/** Relativistic electron wavelength at 300 kV, in Å. */
const WAVELENGTH_A = 0.019687;
/** Spherical aberration 2.7 mm, in Å. */
const CS_A = 2.7e7;
/** Amplitude contrast fraction of vitreous ice specimens. */
const AMPLITUDE_CONTRAST = 0.07;
/** Grant & Grigorieff (2015) critical exposure Ne(s) = a·s^b + c, s in Å⁻¹, Ne in e⁻/Å². */
const CRITICAL_EXPOSURE = { a: 0.245, b: -1.665, c: 2.81 };
/** R-weighting rolls off like IMOD's default radial filter: Gaussian above 0.35 cycles/voxel, σ 0.035. */
const ROLLOFF_START = 0.35;
const ROLLOFF_SIGMA = 0.035;
const ANGSTROM_PER_UM = 1e4;
const MAX_TILTS = 1000;

/** Tilt angles in degrees, minDeg, minDeg + stepDeg, … ≤ maxDeg (in acquisition-independent, ascending order). */
export function tiltAnglesDeg(ts: Pick<TiltSeriesConfig, 'minDeg' | 'maxDeg' | 'stepDeg'>): Float64Array {
  const { minDeg, maxDeg, stepDeg } = ts;
  if (!(stepDeg > 0) || !(minDeg <= maxDeg)) throw new CryosamError(`invalid tilt series ${minDeg}..${maxDeg}° every ${stepDeg}°`);
  // The small tolerance keeps maxDeg when (max − min) / step is whole up to rounding.
  const n = Math.floor((maxDeg - minDeg) / stepDeg + 1e-9) + 1;
  if (n > MAX_TILTS) throw new CryosamError(`a tilt series of ${n} tilts is too many (at most ${MAX_TILTS}): use a larger step`);
  return Float64Array.from({ length: n }, (_, i) => minDeg + i * stepDeg);
}

/**
 * Position of each tilt in the dose-symmetric acquisition (Hagen et al. 2017, one tilt per side):
 * the tilt nearest 0° first, then alternately the next positive and negative ones (0, +3, −3, +6,
 * −6, …). High tilts come last and carry the most damage, as in practice.
 */
export function doseSymmetricOrder(anglesDeg: Float64Array): Int32Array {
  const byOrder = Array.from(anglesDeg.keys()).sort(
    (a, b) => Math.abs(anglesDeg[a]) - Math.abs(anglesDeg[b]) || anglesDeg[b] - anglesDeg[a],
  );
  const order = new Int32Array(anglesDeg.length);
  byOrder.forEach((tilt, position) => (order[tilt] = position));
  return order;
}

/** Critical exposure in e⁻/Å² at spatial frequency s in Å⁻¹ (Grant & Grigorieff 2015): the exposure that damps its power by 1/e. */
export function criticalExposureE(sPerA: number): number {
  if (sPerA <= 0) return Infinity;
  return CRITICAL_EXPOSURE.a * sPerA ** CRITICAL_EXPOSURE.b + CRITICAL_EXPOSURE.c;
}

/** Amplitude left at frequency s (Å⁻¹) after `exposureE` e⁻/Å²: exp(−N / 2Ne(s)). Damage removes high frequencies first. */
export function doseAttenuation(sPerA: number, exposureE: number): number {
  return exposureE <= 0 ? 1 : Math.exp(-exposureE / (2 * criticalExposureE(sPerA)));
}

/**
 * The phase-contrast CTF at s² (Å⁻²) and underfocus `defocusA` (Å, positive = underfocus):
 * √(1−A²)·sin χ + A·cos χ with χ = π·λ·Δf·s² − π/2·Cs·λ³·s⁴. Signed so the lowest frequencies
 * pass with positive sign (the polarity is the scene's); it turns negative past the first zero.
 */
export function ctfValue(s2PerA2: number, defocusA: number): number {
  const chi = Math.PI * WAVELENGTH_A * defocusA * s2PerA2 - 0.5 * Math.PI * CS_A * WAVELENGTH_A ** 3 * s2PerA2 * s2PerA2;
  return Math.sqrt(1 - AMPLITUDE_CONTRAST ** 2) * Math.sin(chi) + AMPLITUDE_CONTRAST * Math.cos(chi);
}

/**
 * Back-projection weight along the detector's u axis at ku (cycles per voxel). R-weighting |ku|
 * undoes the 1/|k| over-sampling of low frequencies by the central sections; the DC gets the mean
 * of the ramp over its bin (1/4 of the first bin's frequency) so the mean density is not lost. The
 * SIRT-like filter of N iterations (after Zeng 2012) multiplies by 1 − (1 − k₀/|k|)^N: SIRT converges
 * per frequency at the rate k₀/|k| (k₀ = 1/(π·thickness), capped for stability), so frequencies above
 * about N·k₀ keep plain back-projection's 1/|k| fall-off and noise stays low.
 */
export function reconstructionWeight(ku: number, paddedWidth: number, thicknessVoxels: number, sirtLikeIterations: number | null): number {
  const k = Math.abs(ku);
  if (k === 0) return 1 / (4 * paddedWidth);
  let w = k;
  if (k > ROLLOFF_START) w *= Math.exp(-0.5 * ((k - ROLLOFF_START) / ROLLOFF_SIGMA) ** 2);
  if (sirtLikeIterations !== null) {
    const k0 = Math.min(1 / (Math.PI * thicknessVoxels), 1 / paddedWidth);
    w *= 1 - (1 - k0 / k) ** sirtLikeIterations;
  }
  return w;
}

/** Detector width in voxels that holds the whole tilted footprint of a (nz, nx) slice at every tilt, with a voxel to spare on each side for interpolation. */
export function detectorWidth(shape: Shape3, anglesDeg: Float64Array): number {
  const [nz, , nx] = shape;
  let width = 0;
  for (const deg of anglesDeg) {
    const t = (deg * Math.PI) / 180;
    width = Math.max(width, (nx - 1) * Math.abs(Math.cos(t)) + (nz - 1) * Math.abs(Math.sin(t)));
  }
  return Math.ceil(width) + 3;
}

/** Where (z, x) lands on a detector of width nu: u = u0(z) + x·cos θ. */
interface TiltGeometry {
  cos: number;
  /** u of voxel (z, x = 0) is uAtZ0 − z·sin θ. */
  sin: number;
  uAtZ0: number;
}

function tiltGeometry(shape: Shape3, deg: number, nu: number): TiltGeometry {
  const [nz, , nx] = shape;
  const t = (deg * Math.PI) / 180;
  const cos = Math.cos(t), sin = Math.sin(t);
  const cx = (nx - 1) / 2, cz = (nz - 1) / 2, cu = (nu - 1) / 2;
  return { cos, sin, uAtZ0: cu - cx * cos + cz * sin };
}

/**
 * Projections of the volume along the beam at each tilt: tilt t, row y at [(t·ny + y)·nu + u].
 * Voxel-driven with linear weights, the adjoint of backProjectTiltSeries's interpolation, so each
 * voxel's density is conserved; empty voxels (most of a scene) are skipped.
 */
export function projectTiltSeries(volume: Volume, anglesDeg: Float64Array, nu: number, onProgress?: ProgressCallback): Float32Array {
  const [nz, ny, nx] = volume.shape;
  const tilts = anglesDeg.length;
  const geometry = Array.from(anglesDeg, (deg) => tiltGeometry(volume.shape, deg, nu));
  const out = new Float32Array(tilts * ny * nu);
  const slice = new Float32Array(nz * nx);
  const d = volume.data;
  for (let y = 0; y < ny; y++) {
    for (let z = 0; z < nz; z++) slice.set(d.subarray((z * ny + y) * nx, (z * ny + y + 1) * nx), z * nx);
    for (let t = 0; t < tilts; t++) {
      const { cos, sin, uAtZ0 } = geometry[t];
      const row = (t * ny + y) * nu;
      for (let z = 0; z < nz; z++) {
        const u0 = uAtZ0 - z * sin;
        const from = z * nx;
        for (let x = 0; x < nx; x++) {
          const v = slice[from + x];
          if (v === 0) continue;
          const u = u0 + x * cos;
          const i = Math.floor(u);
          const f = u - i;
          out[row + i] += v - v * f;
          out[row + i + 1] += v * f;
        }
      }
    }
    if ((y & 15) === 15 || y === ny - 1) onProgress?.({ stage: 'tilt series: projecting', done: y + 1, total: ny });
  }
  return out;
}

/**
 * Adds the back-projection of each set of projections (layout of projectTiltSeries) into its
 * volume, slice by slice in y: linear interpolation along u. Several sets share the geometry,
 * so the signal and the noise are reconstructed in one pass.
 */
export function backProjectTiltSeries(
  sets: { projections: Float32Array; out: Float32Array }[],
  shape: Shape3,
  anglesDeg: Float64Array,
  nu: number,
  onProgress?: ProgressCallback,
): void {
  const [nz, ny, nx] = shape;
  const tilts = anglesDeg.length;
  const geometry = Array.from(anglesDeg, (deg) => tiltGeometry(shape, deg, nu));
  const slices = sets.map(() => new Float32Array(nz * nx));
  for (let y = 0; y < ny; y++) {
    for (const [s, { projections }] of sets.entries()) {
      const slice = slices[s];
      slice.fill(0);
      for (let t = 0; t < tilts; t++) {
        const { cos, sin, uAtZ0 } = geometry[t];
        const row = (t * ny + y) * nu;
        for (let z = 0; z < nz; z++) {
          const u0 = uAtZ0 - z * sin;
          const to = z * nx;
          for (let x = 0; x < nx; x++) {
            const u = u0 + x * cos;
            const i = Math.floor(u);
            const a = projections[row + i];
            slice[to + x] += a + (u - i) * (projections[row + i + 1] - a);
          }
        }
      }
      const out = sets[s].out;
      for (let z = 0; z < nz; z++) {
        const at = (z * ny + y) * nx;
        for (let x = 0; x < nx; x++) out[at + x] += slice[z * nx + x];
      }
    }
    if ((y & 15) === 15 || y === ny - 1) onProgress?.({ stage: 'tilt series: back-projecting', done: y + 1, total: ny });
  }
}

/**
 * Multiplies projection `tilt` (ny × nu, layout of projectTiltSeries) by a transfer function of
 * (ky, ku) in cycles per voxel, in place. The image is zero-padded along u to `paddedWidth` (≥ 2·nu)
 * so the ramp's long kernel does not wrap around onto the other side of the footprint.
 */
export function filterProjection(
  projections: Float32Array,
  tilt: number,
  ny: number,
  nu: number,
  paddedWidth: number,
  transfer: (ky: number, ku: number) => number,
  work: Float32Array = new Float32Array(ny * paddedWidth),
): void {
  work.fill(0);
  const base = tilt * ny * nu;
  for (let y = 0; y < ny; y++) work.set(projections.subarray(base + y * nu, base + (y + 1) * nu), y * paddedWidth);
  applyFourierFilter({ data: work, shape: [1, ny, paddedWidth], voxelSize: isotropic(1) }, (_kz, ky, kx) => transfer(ky, kx));
  for (let y = 0; y < ny; y++) projections.set(work.subarray(y * paddedWidth, y * paddedWidth + nu), base + y * nu);
}

export interface TiltSeriesImagingOptions {
  /** Voxel size in Å (the CTF and the dose damage are physical frequencies). */
  voxelSizeA: number;
  /** Signal variance / noise variance of the reconstruction; null: noise-free. */
  snr: number | null;
  /** Draws the per-tilt defocus and the detector noise. */
  rng: Rng;
  onProgress?: ProgressCallback;
}

/** What imageTiltSeries did, for reports and tests. */
export interface TiltSeriesImaging {
  anglesDeg: Float64Array;
  /** Underfocus of each tilt in µm. */
  defocusUm: Float64Array;
  /** Exposure accumulated before each tilt, in e⁻/Å². */
  priorExposureE: Float64Array;
  /** Detector width in voxels. */
  detectorWidth: number;
}

/**
 * Replaces the volume's content (the scene's density after polarity) with its tilt-series
 * reconstruction plus reconstructed noise at `snr`, in place.
 */
export function imageTiltSeries(volume: Volume, ts: TiltSeriesConfig, options: TiltSeriesImagingOptions): TiltSeriesImaging {
  const { voxelSizeA, snr, rng, onProgress } = options;
  const [nz, ny] = volume.shape;
  const anglesDeg = tiltAnglesDeg(ts);
  const order = doseSymmetricOrder(anglesDeg);
  // Two streams, so the noise does not depend on how many defocus values were drawn.
  const defocusRng = rng.fork();
  const noiseRng = rng.fork();
  const defocusUm = anglesDeg.map(() => defocusRng.range(ts.defocusUm - ts.defocusSpreadUm, ts.defocusUm + ts.defocusSpreadUm));
  const priorExposureE = Float64Array.from(order, (k) => k * ts.dosePerTiltE);
  const nu = detectorWidth(volume.shape, anglesDeg);
  const paddedWidth = fastFftSize(2 * nu);

  const signal = projectTiltSeries(volume, anglesDeg, nu, onProgress);
  const noise = snr === null ? undefined : new Float32Array(signal.length);
  const weight = new Float64Array(paddedWidth);
  for (let i = 0; i < paddedWidth; i++) weight[i] = reconstructionWeight(Math.min(i, paddedWidth - i) / paddedWidth, paddedWidth, nz, ts.sirtLikeIterations);
  const weightAt = (ku: number) => weight[Math.round(Math.abs(ku) * paddedWidth)];
  const perA2 = 1 / (voxelSizeA * voxelSizeA);
  const work = new Float32Array(ny * paddedWidth);
  for (let t = 0; t < anglesDeg.length; t++) {
    const defocusA = defocusUm[t] * ANGSTROM_PER_UM;
    // Damage of the tilt's own exposure counts half: it accrues while the image is recorded.
    const exposureE = priorExposureE[t] + ts.dosePerTiltE / 2;
    filterProjection(signal, t, ny, nu, paddedWidth, (ky, ku) => {
      const s2 = (ky * ky + ku * ku) * perA2;
      const c = ctfValue(s2, defocusA);
      return (ts.phaseFlip ? Math.abs(c) : c) * doseAttenuation(Math.sqrt(s2), exposureE) * weightAt(ku);
    }, work);
    if (noise) {
      const base = t * ny * nu;
      for (let i = 0; i < ny * nu; i++) noise[base + i] = noiseRng.normal();
      // Detector noise is not phase contrast: only the correction's flips and the weighting act on it.
      filterProjection(noise, t, ny, nu, paddedWidth, (ky, ku) => {
        const flip = ts.phaseFlip ? Math.sign(ctfValue((ky * ky + ku * ku) * perA2, defocusA)) : 1;
        return flip * weightAt(ku);
      }, work);
    }
    onProgress?.({ stage: 'tilt series: filtering', done: t + 1, total: anglesDeg.length });
  }

  volume.data.fill(0);
  const noiseVolume = noise ? new Float32Array(volume.data.length) : undefined;
  const sets = [{ projections: signal, out: volume.data }];
  if (noise && noiseVolume) sets.push({ projections: noise, out: noiseVolume });
  backProjectTiltSeries(sets, volume.shape, anglesDeg, nu, onProgress);
  if (snr !== null && noiseVolume) addNoiseAtSnr(volume.data, noiseVolume, snr);
  return { anglesDeg, defocusUm, priorExposureE, detectorWidth: nu };
}

/** One line describing the tilt-series imaging, for summaries. */
export function describeTiltSeries(ts: TiltSeriesConfig): string {
  const n = tiltAnglesDeg(ts).length;
  return (
    `tilt series ${ts.minDeg}..${ts.maxDeg}° every ${ts.stepDeg}° (${n} tilts, dose-symmetric, ${ts.dosePerTiltE} e⁻/Å² each), ` +
    `CTF at ${ts.defocusUm} ± ${ts.defocusSpreadUm} µm underfocus (300 kV, Cs 2.7 mm), ` +
    `${ts.phaseFlip ? 'phase-flipped' : 'no CTF correction'}, ` +
    `${ts.sirtLikeIterations === null ? 'R-weighted back-projection' : `SIRT-like filter (${ts.sirtLikeIterations} iterations)`}`
  );
}
