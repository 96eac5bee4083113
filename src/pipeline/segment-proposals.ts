/**
 * Stage 4 of a pick (the paper's step 1 applied to the matches): proposals segmented best first by
 * cross-plane self-prompting. A proposal inside, or within the NMS radius of, a particle already
 * found is that particle again and is skipped; a segmented proposal whose volume is unlike the
 * reference particle's (fragments, smaller proteins) is rejected.
 */
import type { ProgressCallback } from '../progress.js';
import { DEFAULTS } from './defaults.js';
import type { Shape3 } from '../volume/volume.js';
import type { EmbeddingStore } from './embedding-store.js';
import { maskContains, withoutOverlaps } from './instance.js';
import type { Peak } from './nms.js';
import { segmentFromPrompt, type ResolvedSegmentOptions } from './self-prompting.js';
import type { Instance, ParticleMask, VoxelPoint } from './types.js';

export interface SegmentProposalsInput {
  store: EmbeddingStore;
  shape: Shape3;
  /** Matching peaks, best first. */
  proposals: readonly Peak[];
  /** Particles found before (the prompts): never segmented again, and they keep shared voxels. */
  taken: readonly Instance[];
  /** Voxels: a proposal this close to a found particle's centroid is that particle. */
  nmsRadius: number;
  /** A segmented proposal is kept when its voxel count lies in [min, max]. */
  volumeVoxels: readonly [number, number];
  segment: ResolvedSegmentOptions;
  /** Segmenting stops after this many rejections in a row (Infinity: every proposal is tried). */
  stopAfterRejects: number;
  /**
   * Segments a proposal (cross-plane self-prompting); default on this thread. With worker threads,
   * proposals ahead of their turn are started too, at most `lookahead` at once: a mask depends on
   * its proposal alone, so the result is the same as one by one.
   */
  segmentPeak?: (peak: Peak) => Promise<ParticleMask | undefined>;
  lookahead?: number;
  onProgress: ProgressCallback;
}

export interface SegmentProposalsResult {
  /** Accepted proposals in the order found, numbered after `taken`. */
  found: Instance[];
  /** Proposals segmented (the others lay on a particle found, or came after the stop rule). */
  segmented: number;
  /** Whether the stop rule (stopAfterRejects in a row) ended the segmenting before the last proposal. */
  stopped: boolean;
  /** Segmented proposals rejected: no particle found there, or a volume out of range. */
  rejected: { empty: number; volume: number };
}

/**
 * How many proposals an automatic count may segment: the paper's K, or in a tomogram that can hold
 * more, as many as would fill DEFAULTS.pick.autoMaxOccupancy of its volume with the particle.
 */
export function autoProposalLimit(tomogramVoxels: number, particleVoxels: number): number {
  const { autoMinProposals, autoMaxOccupancy } = DEFAULTS.pick;
  return Math.max(autoMinProposals, Math.ceil((autoMaxOccupancy * tomogramVoxels) / Math.max(1, particleVoxels)));
}

function distance(a: VoxelPoint, b: VoxelPoint): number {
  return Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
}

export async function segmentProposals(input: SegmentProposalsInput): Promise<SegmentProposalsResult> {
  const { store, shape, proposals, nmsRadius, segment, onProgress } = input;
  const [minVoxels, maxVoxels] = input.volumeVoxels;
  const instances: Instance[] = [...input.taken];
  const rejected = { empty: 0, volume: 0 };
  const segmentPeak = input.segmentPeak ?? ((peak: Peak) => segmentFromPrompt(store, shape, peak, segment));
  // A proposal inside, or within one NMS radius of, a particle found is that particle again (and
  // stays so: particles are only added), so it is never segmented.
  const isFound = (peak: Peak) => instances.some((inst) => maskContains(inst, peak) || distance(inst.centroid, peak) < nmsRadius);
  const started = new Map<number, Promise<ParticleMask | undefined>>();
  let rejectsInARow = 0, segmented = 0, stopped = false;
  for (const [i, peak] of proposals.entries()) {
    if (i % 8 === 0) onProgress({ stage: 'segmenting', done: i, total: proposals.length });
    if (rejectsInARow >= input.stopAfterRejects) {
      stopped = true;
      break;
    }
    if (isFound(peak)) continue;
    for (let j = i; j < Math.min(proposals.length, i + (input.lookahead ?? 1)); j++) {
      if (started.has(j) || isFound(proposals[j])) continue;
      const job = segmentPeak(proposals[j]);
      job.catch(() => {}); // a proposal started ahead and then not needed must not fail the pick
      started.set(j, job);
    }
    const made = await (started.get(i) ?? segmentPeak(peak));
    started.delete(i);
    segmented++;
    const mask = made && withoutOverlaps(made, instances);
    const verdict = !mask || mask.voxels === 0 ? 'empty' : mask.voxels < minVoxels || mask.voxels > maxVoxels ? 'volume' : undefined;
    if (verdict || !mask) {
      rejected[verdict ?? 'empty']++;
      rejectsInARow++;
      continue;
    }
    rejectsInARow = 0;
    instances.push({ ...mask, id: instances.length + 1, prompted: false, similarity: peak.score });
  }
  onProgress({ stage: 'segmenting', done: proposals.length, total: proposals.length });
  return { found: instances.slice(input.taken.length), segmented, stopped, rejected };
}
