/**
 * Full-volume views of instance masks, for writing MRC outputs: an instance label volume
 * (value = instance id, 0 = background) and a semantic mask (1 = any particle).
 */
import { isotropic, voxelCount, type Shape3, type Volume, type VoxelArray, type VoxelSize } from '../volume/volume.js';
import type { Instance, ParticleMask } from './types.js';

function paint<T extends VoxelArray, M extends ParticleMask>(shape: Shape3, instances: readonly M[], data: T, value: (inst: M) => number, voxelSize: VoxelSize): Volume<T> {
  const [, ny, nx] = shape;
  for (const inst of instances) {
    const { z0, z1, y0, y1, x0, x1 } = inst.bbox;
    const by = y1 - y0, bx = x1 - x0;
    const v = value(inst);
    for (let z = z0; z < z1; z++)
      for (let y = y0; y < y1; y++) {
        const src = ((z - z0) * by + (y - y0)) * bx;
        const dst = (z * ny + y) * nx;
        // Earlier instances keep their voxels: they were segmented first (higher score).
        for (let x = x0; x < x1; x++) if (inst.mask[src + x - x0] && !data[dst + x]) data[dst + x] = v;
      }
  }
  return { data, shape, voxelSize };
}

export function instancesToLabels(shape: Shape3, instances: readonly Instance[], voxelSize: VoxelSize = isotropic(1)): Volume<Int32Array> {
  return paint(shape, instances, new Int32Array(voxelCount(shape)), (inst) => inst.id, voxelSize);
}

export function instancesToSemantic(shape: Shape3, instances: readonly ParticleMask[], voxelSize: VoxelSize = isotropic(1)): Volume<Uint8Array> {
  return paint(shape, instances, new Uint8Array(voxelCount(shape)), () => 1, voxelSize);
}
