/**
 * A CTF-like band-pass: the microscope transfers little of the lowest frequencies (phase contrast)
 * and an envelope damps the highest (coherence, drift, alignment errors). Optionally the CTF's
 * sign-flipping oscillation at a defocus is applied too, as in a tomogram without CTF correction.
 */
import type { TransferFunction } from '../../volume/fourier.js';

export interface BandPassOptions {
  /** Components of resolution coarser than this (Å) are attenuated: high-pass 1 − exp(−(k·d)²). */
  highPassA: number;
  /** Envelope exp(−(k·d)²): components finer than this resolution (Å) are damped. */
  lowPassA: number;
  /** Underfocus in µm for the oscillating CTF; null for the band-pass alone. */
  defocusUm: number | null;
}

/** Electron wavelength at 300 kV, in Å. */
const WAVELENGTH_A = 0.0197;
/** Amplitude contrast fraction of vitreous ice specimens. */
const AMPLITUDE_CONTRAST = 0.07;

/**
 * Transfer function on a grid of `voxelSizeA` Å. The CTF term is sin χ·√(1−A²) + A·cos χ with
 * χ = π·λ·Δf·k² (spherical aberration is negligible below 15 Å resolution), signed so that the lowest
 * frequencies pass with positive sign: polarity is chosen separately (see SimulationConfig.polarity).
 */
export function bandPass(options: BandPassOptions, voxelSizeA: number): TransferFunction {
  const { highPassA, lowPassA, defocusUm } = options;
  const hp = (highPassA / voxelSizeA) ** 2;
  const damp = envelope(lowPassA, voxelSizeA);
  // χ in terms of k² in cycles per voxel: π·λ·Δf / voxelSize².
  const chiPerK2 = defocusUm === null ? 0 : (Math.PI * WAVELENGTH_A * defocusUm * 1e4) / (voxelSizeA * voxelSizeA);
  const amplitude = Math.sqrt(1 - AMPLITUDE_CONTRAST ** 2);
  return (kz, ky, kx) => {
    const k2 = kz * kz + ky * ky + kx * kx;
    let h = (1 - Math.exp(-k2 * hp)) * damp(kz, ky, kx);
    if (defocusUm !== null) {
      const chi = chiPerK2 * k2;
      h *= amplitude * Math.sin(chi) + AMPLITUDE_CONTRAST * Math.cos(chi);
    }
    return h;
  };
}

/**
 * The resolution limit alone, exp(−(k·d)²) with d = lowPassA: it applies to everything a
 * reconstruction contains, the noise included (interpolation, alignment errors).
 */
export function envelope(lowPassA: number, voxelSizeA: number): TransferFunction {
  const lp = (lowPassA / voxelSizeA) ** 2;
  return (kz, ky, kx) => Math.exp(-(kz * kz + ky * ky + kx * kx) * lp);
}
