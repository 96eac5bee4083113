/**
 * Verification of proposals against the prompted particles, after segmentation. Feature similarity
 * finds "something like the prompt"; these checks ask whether a segmented proposal is the same kind
 * of particle: a similar volume, and a similar rotation-invariant radial density profile.
 *
 * The radial profile is the mean normalised density in concentric spherical shells around the
 * instance centroid (out to 1.6 equivalent radii, so the particle's edge and its immediate
 * surroundings both count). Shell means do not depend on the particle's orientation, and each shell
 * averages hundreds of voxels, so the profile is robust at SNR 0.1. Profiles are compared by
 * Pearson correlation, which ignores a particle-wide offset or gain in density.
 *
 * Both checks work on any engine's results: they read the tomogram, not the engine's features.
 */
import type { Volume } from '../volume/volume.js';
import type { VoxelPoint } from './types.js';

/** Profile extent in equivalent radii, and the number of shells across it. */
const PROFILE_EXTENT = 1.6;
const PROFILE_SHELLS = 10;

export interface ProfileGeometry {
  /** Outer radius in voxels. */
  radius: number;
  /** Shell width in voxels. */
  shellWidth: number;
}

/** Shell layout for particles of equivalent-sphere radius `equivalentRadius` (voxels). */
export function profileGeometry(equivalentRadius: number): ProfileGeometry {
  const radius = Math.max(3, PROFILE_EXTENT * equivalentRadius);
  return { radius, shellWidth: radius / PROFILE_SHELLS };
}

/** Mean density per spherical shell around `centre`; shells outside the tomogram are NaN. */
export function radialProfile(tomogram: Volume, centre: VoxelPoint, g: ProfileGeometry): Float64Array {
  const [nz, ny, nx] = tomogram.shape;
  const d = tomogram.data;
  const sum = new Float64Array(PROFILE_SHELLS);
  const count = new Float64Array(PROFILE_SHELLS);
  const R = Math.ceil(g.radius);
  const cz = Math.round(centre.z), cy = Math.round(centre.y), cx = Math.round(centre.x);
  for (let z = Math.max(0, cz - R); z <= Math.min(nz - 1, cz + R); z++) {
    const dz2 = (z - cz) ** 2;
    for (let y = Math.max(0, cy - R); y <= Math.min(ny - 1, cy + R); y++) {
      const dzy2 = dz2 + (y - cy) ** 2;
      const row = (z * ny + y) * nx;
      for (let x = Math.max(0, cx - R); x <= Math.min(nx - 1, cx + R); x++) {
        const shell = Math.floor(Math.sqrt(dzy2 + (x - cx) ** 2) / g.shellWidth);
        if (shell >= PROFILE_SHELLS) continue;
        sum[shell] += d[row + x];
        count[shell]++;
      }
    }
  }
  return sum.map((s, i) => (count[i] > 0 ? s / count[i] : NaN));
}

/** Mean of several profiles, shell by shell, ignoring NaN shells. */
export function meanProfile(profiles: Float64Array[]): Float64Array {
  const out = new Float64Array(PROFILE_SHELLS);
  for (let i = 0; i < PROFILE_SHELLS; i++) {
    let s = 0, n = 0;
    for (const p of profiles) if (!Number.isNaN(p[i])) (s += p[i]), n++;
    out[i] = n > 0 ? s / n : NaN;
  }
  return out;
}

/** Pearson correlation over the shells both profiles have (−1 when fewer than 3 are shared). */
export function profileCorrelation(a: Float64Array, b: Float64Array): number {
  let n = 0, sa = 0, sb = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i]) && !Number.isNaN(b[i])) (n++, (sa += a[i]), (sb += b[i]));
  if (n < 3) return -1;
  const ma = sa / n, mb = sb / n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) continue;
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : -1;
}
