/**
 * Display processing of one slice on the server: optional Gaussian smoothing and block
 * downsampling, so the page receives only as many pixels as its canvas shows.
 */
import type { Slice2D } from '../volume/slice.js';
import { gaussianFilter2d } from '../volume/gaussian.js';
import { downsampleSlice } from '../volume/resample.js';

/** A slice as displayed: smoothed by `sigma` pixels (display only, never used for picking), then mean-pooled. */
export function displaySlice(raw: Slice2D, sigma: number, downsample: number): Slice2D {
  const smoothed = sigma > 0 ? gaussianFilter2d(raw, sigma) : raw;
  return downsample > 1 ? downsampleSlice(smoothed, downsample) : smoothed;
}

/** Bitwise OR over factor×factor blocks, so thin mask parts stay visible when zoomed out. */
export function downsampleMaskBits(bits: Uint8Array, height: number, width: number, factor: number): Uint8Array {
  if (factor <= 1) return bits;
  const oh = Math.ceil(height / factor);
  const ow = Math.ceil(width / factor);
  const out = new Uint8Array(oh * ow);
  for (let r = 0; r < height; r++) {
    const orow = Math.floor(r / factor) * ow;
    const row = r * width;
    for (let c = 0; c < width; c++) out[orow + Math.floor(c / factor)] |= bits[row + c];
  }
  return out;
}
