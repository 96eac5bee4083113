/**
 * Filtering a tomogram in Fourier space: a real-to-complex 3D FFT (pairs of real x rows share one
 * complex transform; only the kx ≥ 0 half of the Hermitian spectrum is kept), a multiplication by
 * a real, point-symmetric transfer function, and the inverse. Axes are transformed one after the
 * other, many lines per batch. Sizes without a fast FFT are padded (with the volume mean, so the
 * padding adds no edge) to the next 2·3·5-smooth size and cropped back.
 */
import type { Shape3, Volume } from './volume.js';
import { voxelCount } from './volume.js';
import type { ProgressCallback } from '../progress.js';
import { FftPlan, fastFftSize } from './fft.js';

/**
 * Multiplier of the Fourier component at spatial frequency (kz, ky, kx) in cycles per voxel, each
 * in [-0.5, 0.5]. Must be real and satisfy H(k) = H(-k), so a real volume stays real.
 */
export type TransferFunction = (kz: number, ky: number, kx: number) => number;

/** Half spectrum of a real volume: index (z * ny + y) * nxh + kx, kx in [0, nx/2]. */
export interface HalfSpectrum {
  re: Float32Array;
  im: Float32Array;
  /** Real-space shape the spectrum belongs to. */
  shape: Shape3;
  nxh: number;
}

/** Multiplies the volume's spectrum by `transfer`, in place. */
export function applyFourierFilter(volume: Volume, transfer: TransferFunction, onProgress?: ProgressCallback): void {
  const [nz, ny, nx] = volume.shape;
  const padded: Shape3 = [fastFftSize(nz), fastFftSize(ny), fastFftSize(nx)];
  const needsPadding = padded[0] !== nz || padded[1] !== ny || padded[2] !== nx;
  const work = needsPadding ? padVolume(volume.data, volume.shape, padded) : volume.data;
  const spectrum = rfft3d(work, padded, onProgress);
  multiplyTransfer(spectrum, transfer);
  irfft3d(spectrum, work, onProgress);
  if (needsPadding) cropInto(work, padded, volume.data, volume.shape);
}

/** Forward transform of a real volume (C order over z, y, x). */
export function rfft3d(data: Float32Array, shape: Shape3, onProgress?: ProgressCallback): HalfSpectrum {
  const [nz, ny, nx] = shape;
  const nxh = Math.floor(nx / 2) + 1;
  const re = new Float32Array(nz * ny * nxh);
  const im = new Float32Array(nz * ny * nxh);
  const spectrum: HalfSpectrum = { re, im, shape, nxh };
  const progress = passProgress('FFT forward', shape, onProgress);
  realRowsForward(data, spectrum, progress);
  complexPasses(spectrum, false, progress);
  return spectrum;
}

/** Inverse of rfft3d, written into `out` (length nz·ny·nx). */
export function irfft3d(spectrum: HalfSpectrum, out: Float32Array, onProgress?: ProgressCallback): void {
  const progress = passProgress('FFT inverse', spectrum.shape, onProgress);
  complexPasses(spectrum, true, progress);
  realRowsInverse(spectrum, out, progress);
}

/** Spatial frequency of FFT index i on an axis of n samples, in cycles per voxel. */
export function fftFrequency(i: number, n: number): number {
  return (i <= n / 2 ? i : i - n) / n;
}

function multiplyTransfer(spectrum: HalfSpectrum, transfer: TransferFunction): void {
  const { re, im, nxh } = spectrum;
  const [nz, ny, nx] = spectrum.shape;
  for (let z = 0; z < nz; z++) {
    const kz = fftFrequency(z, nz);
    for (let y = 0; y < ny; y++) {
      const ky = fftFrequency(y, ny);
      const row = (z * ny + y) * nxh;
      for (let x = 0; x < nxh; x++) {
        const h = transfer(kz, ky, x / nx);
        re[row + x] *= h;
        im[row + x] *= h;
      }
    }
  }
}

/** x axis, real → half complex: rows r and r+1 go in as the real and imaginary parts of one FFT. */
function realRowsForward(data: Float32Array, spectrum: HalfSpectrum, progress: (step: number) => void): void {
  const [nz, ny, nx] = spectrum.shape;
  const { re, im, nxh } = spectrum;
  const plan = new FftPlan(nx);
  const br = new Float64Array(nx);
  const bi = new Float64Array(nx);
  const rows = nz * ny;
  for (let r = 0; r < rows; r += 2) {
    const paired = r + 1 < rows;
    for (let x = 0; x < nx; x++) {
      br[x] = data[r * nx + x];
      bi[x] = paired ? data[(r + 1) * nx + x] : 0;
    }
    plan.transform(br, bi);
    // A_k = (Z_k + conj Z_{n-k}) / 2 is row r's spectrum, B_k = (Z_k - conj Z_{n-k}) / 2i row r+1's.
    for (let k = 0; k < nxh; k++) {
      const nk = k === 0 ? 0 : nx - k;
      const zr = br[k], zi = bi[k], wr = br[nk], wi = bi[nk];
      re[r * nxh + k] = (zr + wr) / 2;
      im[r * nxh + k] = (zi - wi) / 2;
      if (paired) {
        re[(r + 1) * nxh + k] = (zi + wi) / 2;
        im[(r + 1) * nxh + k] = (wr - zr) / 2;
      }
    }
    if ((r & 63) === 0) progress(r / 2);
  }
}

/** x axis, half complex → real: the inverse of realRowsForward (Z = A + iB, filled by Hermitian symmetry). */
function realRowsInverse(spectrum: HalfSpectrum, out: Float32Array, progress: (step: number) => void): void {
  const [nz, ny, nx] = spectrum.shape;
  const { re, im, nxh } = spectrum;
  const plan = new FftPlan(nx);
  const br = new Float64Array(nx);
  const bi = new Float64Array(nx);
  const rows = nz * ny;
  const base = nz + ny;
  for (let r = 0; r < rows; r += 2) {
    const paired = r + 1 < rows;
    for (let k = 0; k < nx; k++) {
      // Beyond nx/2, A_k = conj A_{n-k} and B_k = conj B_{n-k}.
      const mirrored = k >= nxh;
      const h = mirrored ? nx - k : k;
      const s = mirrored ? -1 : 1;
      const ar = re[r * nxh + h], ai = s * im[r * nxh + h];
      const bRe = paired ? re[(r + 1) * nxh + h] : 0;
      const bIm = paired ? s * im[(r + 1) * nxh + h] : 0;
      br[k] = ar - bIm;
      bi[k] = ai + bRe;
    }
    plan.transform(br, bi, 1, true);
    for (let x = 0; x < nx; x++) {
      out[r * nx + x] = br[x];
      if (paired) out[(r + 1) * nx + x] = bi[x];
    }
    if ((r & 63) === 0) progress(base + r / 2);
  }
}

/** y then z axis on the half spectrum (reverse order for the inverse), whole rows of kx per batch. */
function complexPasses(spectrum: HalfSpectrum, inverse: boolean, progress: (step: number) => void): void {
  const [nz, ny] = spectrum.shape;
  const nxh = spectrum.nxh;
  const rowsStep = inverse ? 0 : Math.ceil((nz * ny) / 2);
  const yPass = (offsetStep: number) => {
    const plan = new FftPlan(ny);
    const buf = lineBuffers(ny * nxh);
    for (let z = 0; z < nz; z++) {
      transformLines(spectrum, plan, buf, z * ny * nxh, nxh, inverse);
      progress(offsetStep + z);
    }
  };
  const zPass = (offsetStep: number) => {
    const plan = new FftPlan(nz);
    const buf = lineBuffers(nz * nxh);
    for (let y = 0; y < ny; y++) {
      transformLines(spectrum, plan, buf, y * nxh, ny * nxh, inverse);
      progress(offsetStep + y);
    }
  };
  if (inverse) {
    zPass(0);
    yPass(ny);
  } else {
    yPass(rowsStep);
    zPass(rowsStep + nz);
  }
}

function lineBuffers(length: number): { re: Float64Array; im: Float64Array } {
  return { re: new Float64Array(length), im: new Float64Array(length) };
}

/**
 * Transforms the nxh lines that start at `offset` + kx and run along an axis with element stride
 * `stride`: rows of nxh contiguous values are gathered, transformed as one batch and scattered back.
 */
function transformLines(
  spectrum: HalfSpectrum,
  plan: FftPlan,
  buf: { re: Float64Array; im: Float64Array },
  offset: number,
  stride: number,
  inverse: boolean,
): void {
  const { re, im, nxh } = spectrum;
  for (let i = 0; i < plan.n; i++) {
    const at = offset + i * stride;
    buf.re.set(re.subarray(at, at + nxh), i * nxh);
    buf.im.set(im.subarray(at, at + nxh), i * nxh);
  }
  plan.transform(buf.re, buf.im, nxh, inverse);
  for (let i = 0; i < plan.n; i++) {
    const at = offset + i * stride;
    re.set(buf.re.subarray(i * nxh, (i + 1) * nxh), at);
    im.set(buf.im.subarray(i * nxh, (i + 1) * nxh), at);
  }
}

/** Progress of one 3D transform: x row pairs, then y planes, then z groups (as steps). */
function passProgress(stage: string, shape: Shape3, onProgress?: ProgressCallback): (step: number) => void {
  if (!onProgress) return () => {};
  const total = Math.ceil((shape[0] * shape[1]) / 2) + shape[0] + shape[1];
  return (step) => onProgress({ stage, done: Math.min(step + 1, total), total });
}

function padVolume(data: Float32Array, shape: Shape3, padded: Shape3): Float32Array {
  const [nz, ny, nx] = shape;
  const [, py, px] = padded;
  let mean = 0;
  for (let i = 0; i < data.length; i++) mean += data[i];
  mean /= data.length;
  const out = new Float32Array(voxelCount(padded)).fill(mean);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      out.set(data.subarray((z * ny + y) * nx, (z * ny + y + 1) * nx), (z * py + y) * px);
    }
  }
  return out;
}

function cropInto(padded: Float32Array, paddedShape: Shape3, out: Float32Array, shape: Shape3): void {
  const [nz, ny, nx] = shape;
  const [, py, px] = paddedShape;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const from = (z * py + y) * px;
      out.set(padded.subarray(from, from + nx), (z * ny + y) * nx);
    }
  }
}
