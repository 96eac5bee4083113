/**
 * Query features of CryoSAM step 3: what the prompted particles look like in feature space.
 * 'mean' (the paper): masked average pooling over all prompted instances' 3D masks, one query;
 * 'per-prompt': one masked average per instance (matching takes the max similarity);
 * 'centre': the mean feature within half the particle radius of each instance's centroid.
 * Queries are L2-normalised so that a dot product with a normalised feature is the cosine similarity.
 */
import type { FeatureVolume } from './feature-volume.js';
import { equivalentRadius } from './instance.js';
import type { ParticleMask, QueryMode } from './types.js';

/** Scales v to unit length in place (a zero vector stays zero); returns v. */
export function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

/** Adds the features of every masked voxel of `inst` into `sum`; returns the voxel count. */
function addMasked(fv: FeatureVolume, inst: ParticleMask, keep: (z: number, y: number, x: number) => boolean, sum: Float32Array): number {
  const { z0, z1, y0, y1, x0, x1 } = inst.bbox;
  const ny = y1 - y0, nx = x1 - x0;
  let n = 0;
  for (let z = z0; z < z1; z++)
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        if (!inst.mask[((z - z0) * ny + (y - y0)) * nx + (x - x0)] || !keep(z, y, x)) continue;
        fv.accumulate(z, y, x, 1, sum);
        n++;
      }
  return n;
}

export function buildQueries(fv: FeatureVolume, instances: readonly ParticleMask[], mode: QueryMode): Float32Array[] {
  const all = () => true;
  if (mode === 'mean') {
    const sum = new Float32Array(fv.dim);
    for (const inst of instances) addMasked(fv, inst, all, sum);
    return [normalise(sum)];
  }
  return instances.map((inst) => {
    const sum = new Float32Array(fv.dim);
    if (mode === 'per-prompt') {
      addMasked(fv, inst, all, sum);
    } else {
      const c = inst.centroid;
      const r2 = Math.max(1, equivalentRadius(inst.voxels) / 2) ** 2;
      const near = (z: number, y: number, x: number) => (z - c.z) ** 2 + (y - c.y) ** 2 + (x - c.x) ** 2 <= r2;
      // A tiny instance may have no voxel near its centroid: fall back to the centroid itself.
      if (addMasked(fv, inst, near, sum) === 0) fv.accumulate(c.z, c.y, c.x, 1, sum);
    }
    return normalise(sum);
  });
}
