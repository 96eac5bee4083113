/**
 * Particle templates: the real density maps of data/maps, normalised and measured once per
 * simulation. The maps are sampled at 10 Å/voxel whatever their headers say (some are wrong).
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { CryosamError } from '../../errors.js';
import { readMrc } from '../../io/mrc/read.js';
import type { Shape3, Volume } from '../../volume/volume.js';

/** Voxel size of every map in data/maps, in Å. */
export const MAP_VOXEL_SIZE_A = 10;

/**
 * Fraction of a map's positive density enclosed by its iso-surface: the contour level is the
 * density at which the voxels above it hold this much of the total (a mass criterion, which does
 * not depend on how the map was scaled, unlike a fraction of the maximum).
 */
export const ENCLOSED_MASS = 0.9;

/** Density tails below this fraction of the contour level are dropped when a map is placed. */
const SUPPORT_FRACTION = 0.05;

export interface DensityTemplate {
  /** Map id, the file name without .mrc, e.g. '4v7r'. */
  id: string;
  /** Density scaled so its mean inside the iso-surface is 1 (one contrast unit for every protein). */
  data: Float32Array;
  shape: Shape3;
  /** Iso-surface level on the scaled density: voxels ≥ it are the particle. */
  threshold: number;
  /** Voxels inside the iso-surface. */
  insideVoxels: number;
  /** Distance from the map centre to the farthest voxel inside the iso-surface, in map voxels. */
  labelRadius: number;
  /** Distance from the map centre to the farthest voxel with density kept (≥ 5% of the level), in map voxels. */
  supportRadius: number;
}

/** Reads `<mapsDir>/<id>.mrc` and prepares it. */
export async function loadTemplate(mapsDir: string, id: string): Promise<DensityTemplate> {
  const file = path.join(mapsDir, `${id}.mrc`);
  try {
    await fs.access(file);
  } catch {
    const available = await availableMaps(mapsDir);
    throw new CryosamError(
      `no density map '${id}'` + (available.length ? ` (available: ${available.join(', ')})` : ''),
      file,
    );
  }
  return prepareTemplate(id, await readMrc(file), file);
}

/** Map ids (file names without .mrc) in a maps folder, sorted; empty when the folder is missing. */
export async function availableMaps(mapsDir: string): Promise<string[]> {
  try {
    return (await fs.readdir(mapsDir))
      .filter((f) => f.endsWith('.mrc'))
      .map((f) => f.slice(0, -4))
      .sort();
  } catch {
    return [];
  }
}

/** Finds the contour level, scales the density and measures the particle's extent. */
export function prepareTemplate(id: string, map: Volume, file = id): DensityTemplate {
  const { data, shape } = map;
  const positive = data.filter((v) => v > 0).sort();
  let total = 0;
  for (let i = 0; i < positive.length; i++) total += positive[i];
  if (!(total > 0)) throw new CryosamError('density map has no positive density (protein must be positive)', file);
  let enclosed = 0;
  let level = positive[positive.length - 1];
  for (let i = positive.length - 1; i >= 0 && enclosed < ENCLOSED_MASS * total; i--) {
    enclosed += positive[i];
    level = positive[i];
  }
  let insideSum = 0;
  let insideVoxels = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= level) {
      insideSum += data[i];
      insideVoxels++;
    }
  }
  const scale = insideVoxels / insideSum;
  const scaled = Float32Array.from(data, (v) => v * scale);
  // The level as stored in float32, and the inside recounted on the scaled data, so they agree exactly.
  const threshold = Math.fround(level * scale);
  return {
    id,
    data: scaled,
    shape,
    threshold,
    insideVoxels: scaled.reduce((n, v) => (v >= threshold ? n + 1 : n), 0),
    labelRadius: farthestFromCentre(scaled, shape, threshold),
    supportRadius: farthestFromCentre(scaled, shape, SUPPORT_FRACTION * threshold),
  };
}

function farthestFromCentre(data: Float32Array, shape: Shape3, level: number): number {
  const [nz, ny, nx] = shape;
  const cz = (nz - 1) / 2, cy = (ny - 1) / 2, cx = (nx - 1) / 2;
  let max2 = 0;
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (data[i] < level) continue;
        const d2 = (z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2;
        if (d2 > max2) max2 = d2;
      }
    }
  }
  return Math.sqrt(max2);
}
