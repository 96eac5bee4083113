/** Stage 6 of a pick: instances become picks at their density centres, with the scores that ranked them. */
import type { VoxelSize } from '../volume/volume.js';
import type { Instance, ParticlePick, VoxelPoint } from './types.js';

/**
 * @param centreOf where instance i is written (its density centre).
 * @param correlation template correlations (after the template cut): then a pick's score is its
 *   correlation, so a threshold on the written score tightens that cut; without, its similarity.
 */
export function toPicks(instances: readonly Instance[], centreOf: (inst: Instance, i: number) => VoxelPoint, correlation: ((inst: Instance, i: number) => number | undefined) | undefined, voxelSize: VoxelSize): ParticlePick[] {
  const voxelNm3 = (voxelSize.x * voxelSize.y * voxelSize.z) / 1000;
  return instances.map((inst, i) => {
    const templateCorrelation = correlation?.(inst, i);
    return {
      ...centreOf(inst, i),
      score: templateCorrelation ?? inst.similarity,
      similarity: inst.similarity,
      ...(templateCorrelation === undefined ? {} : { templateCorrelation }),
      instanceId: inst.id,
      voxels: inst.voxels,
      volumeNm3: inst.voxels * voxelNm3,
    };
  });
}
