/**
 * Stage 1 of a pick (the paper's step 1 for the user's clicks): each point prompt segmented in 3D
 * by cross-plane self-prompting, the masks made disjoint (an earlier prompt keeps a shared voxel).
 */
import type { ProgressCallback } from '../progress.js';
import type { Shape3 } from '../volume/volume.js';
import type { EmbeddingStore } from './embedding-store.js';
import { pointMask, withoutOverlaps } from './instance.js';
import { segmentFromPrompt, type ResolvedSegmentOptions } from './self-prompting.js';
import type { Instance, VoxelPoint } from './types.js';

export interface SegmentPromptsInput {
  store: EmbeddingStore;
  shape: Shape3;
  prompts: readonly VoxelPoint[];
  segment: ResolvedSegmentOptions;
  onProgress: ProgressCallback;
}

/**
 * One instance per prompt, numbered from 1 in prompt order. A prompt on which no plane yields a
 * mask keeps its voxel alone, so every prompt has an instance.
 */
export async function segmentPrompts(input: SegmentPromptsInput): Promise<Instance[]> {
  const { store, shape, prompts, segment, onProgress } = input;
  const instances: Instance[] = [];
  for (const [i, prompt] of prompts.entries()) {
    onProgress({ stage: 'segment prompts', done: i, total: prompts.length });
    const mask = (await segmentFromPrompt(store, shape, prompt, segment)) ?? pointMask(prompt, shape);
    instances.push({ ...withoutOverlaps(mask, instances), id: i + 1, prompted: true, similarity: 1 });
  }
  onProgress({ stage: 'segment prompts', done: prompts.length, total: prompts.length });
  return instances;
}
