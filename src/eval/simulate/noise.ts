/** Noise of simulated tomograms and their final scaling. */
import { volumeStats } from '../../volume/stats.js';
import type { Rng } from './rng.js';

/** White Gaussian noise, standard deviation 1. */
export function gaussianNoise(length: number, rng: Rng): Float32Array {
  const noise = new Float32Array(length);
  for (let i = 0; i < length; i++) noise[i] = rng.normal();
  return noise;
}

/**
 * Adds `noise`, scaled for a signal-to-noise ratio defined as
 *   SNR = variance of the signal / variance of the noise, both over the whole volume,
 * i.e. to standard deviation std(signal) / √SNR. Returns that standard deviation.
 */
export function addNoiseAtSnr(signal: Float32Array, noise: Float32Array, snr: number): number {
  if (!(snr > 0)) throw new RangeError(`SNR must be > 0, got ${snr}`);
  const sigma = volumeStats(signal).rms / Math.sqrt(snr);
  const { mean, rms } = volumeStats(noise);
  const scale = rms > 0 ? sigma / rms : 0;
  for (let i = 0; i < signal.length; i++) signal[i] += (noise[i] - mean) * scale;
  return sigma;
}

/** Shifts and scales to mean 0 and standard deviation 1 (a constant volume only loses its mean). */
export function standardize(data: Float32Array): void {
  const { mean, rms } = volumeStats(data);
  const scale = rms > 0 ? 1 / rms : 1;
  for (let i = 0; i < data.length; i++) data[i] = (data[i] - mean) * scale;
}
