/**
 * Stage 1 of a pick (the paper's step 1 for the user's clicks): each point prompt segmented in 3D
 * by cross-plane self-prompting, the masks made disjoint (an earlier prompt keeps a shared voxel).
 *
 * A person clicks near a particle's centre, not on it, and a click off the centre can give a mask
 * of a fraction of the particle (crowded seed 2: a click a third of a radius off gave 500 voxels of
 * 4888, Dice 0.12, and the pick found nothing else). So a click is segmented again from its first
 * mask's density centre when that lies well away from the click (Dice 0.67 there), and the larger
 * of the two masks is kept.
 */
import { NoStructureError } from '../errors.js';
import type { ProgressCallback } from '../progress.js';
import { isInsideVolume, type Volume } from '../volume/volume.js';
import type { EmbeddingStore } from './embedding-store.js';
import { DEFAULTS } from './defaults.js';
import { equivalentRadius, withoutOverlaps } from './instance.js';
import { centreGeometry, contrastPolarity, densityCentre, maskSignificance } from './particle.js';
import { segmentFromPrompt, type ResolvedSegmentOptions } from './self-prompting.js';
import type { Instance, ParticleMask, VoxelPoint } from './types.js';

/**
 * A click at least this far from its mask's density centre, in equivalent radii of that mask (and
 * at least MIN_RECENTRE_VOXELS), is segmented again from the centre. Closer, the click is taken as
 * centred: the same mask as before for a click on the centre.
 */
const RECENTRE_RADII = 0.25;
const MIN_RECENTRE_VOXELS = 2;

/** The 3D mask of the particle under a click; also segmented from the particle's density centre when the click is off it, the larger mask kept. */
export async function segmentClick(store: EmbeddingStore, tomogram: Volume, click: VoxelPoint, segment: ResolvedSegmentOptions): Promise<ParticleMask | undefined> {
  const first = await segmentFromPrompt(store, tomogram.shape, click, segment);
  if (!first || first.voxels === 0) return first;
  const radius = equivalentRadius(first.voxels);
  const c = densityCentre(tomogram, first.centroid, centreGeometry(radius), contrastPolarity(tomogram, [first]));
  const centre = { x: Math.round(c.x), y: Math.round(c.y), z: Math.round(c.z) };
  const off = Math.hypot(centre.x - click.x, centre.y - click.y, centre.z - click.z);
  if (!isInsideVolume(centre, tomogram.shape) || off < Math.max(MIN_RECENTRE_VOXELS, RECENTRE_RADII * radius)) return first;
  // A mask from off the centre misses part of the particle: the one from the centre is kept when it covers more.
  const again = await segmentFromPrompt(store, tomogram.shape, centre, segment);
  return again && again.voxels > first.voxels ? again : first;
}

/**
 * The click's mask, when there is something to segment there: a mask that stands out of the noise
 * (DEFAULTS.segment.minSignificance). A segmenter returns some region wherever it is prompted, and
 * in empty ice that region is noise, so a click there is refused rather than given a random blob.
 */
export function structureAtClick(tomogram: Volume, click: VoxelPoint, mask: ParticleMask | undefined): ParticleMask {
  const where = `no structure found at x=${click.x}, y=${click.y}, z=${click.z}`;
  if (!mask || mask.voxels === 0) throw new NoStructureError(`${where}: none of the clicked slices gives a mask`);
  const significance = Math.abs(maskSignificance(tomogram, mask));
  const min = DEFAULTS.segment.minSignificance;
  if (significance < min) {
    throw new NoStructureError(`${where}: the region segmented there (${mask.voxels} voxels) stands out of the noise by ${significance.toFixed(1)} standard deviations, where a structure stands out by at least ${min} (a click in empty ice, or beside the particle?)`);
  }
  return mask;
}

export interface SegmentPromptsInput {
  store: EmbeddingStore;
  tomogram: Volume;
  prompts: readonly VoxelPoint[];
  segment: ResolvedSegmentOptions;
  onProgress: ProgressCallback;
}

/**
 * One instance per prompt, numbered from 1 in prompt order. A prompt with no structure under it
 * (structureAtClick) is an error naming the prompt: a pick from it would pick noise.
 */
export async function segmentPrompts(input: SegmentPromptsInput): Promise<Instance[]> {
  const { store, tomogram, prompts, segment, onProgress } = input;
  const instances: Instance[] = [];
  for (const [i, prompt] of prompts.entries()) {
    onProgress({ stage: 'segment prompts', done: i, total: prompts.length });
    let mask: ParticleMask;
    try {
      mask = structureAtClick(tomogram, prompt, await segmentClick(store, tomogram, prompt, segment));
    } catch (e) {
      throw e instanceof NoStructureError && prompts.length > 1 ? new NoStructureError(`prompt ${i + 1} of ${prompts.length}: ${e.message}`) : e;
    }
    instances.push({ ...withoutOverlaps(mask, instances), id: i + 1, prompted: true, similarity: 1 });
  }
  onProgress({ stage: 'segment prompts', done: prompts.length, total: prompts.length });
  return instances;
}
