/**
 * A Reference: what the prompted particles teach a pick. The query feature(s) that matching looks
 * for, the particle's size (which sizes the NMS radius and the volume rule) and contrast, and, once
 * a pick has made it, the self-template: the average density of the prompts and the best matches.
 * Built from prompts in one tomogram (CryoSam.reference) and refined by a pick (PickResult.reference).
 * Its fields name what it is only comparable with (engine identities, voxel size, version), so that
 * it can be kept and used again.
 */
import type { EngineIdentity } from '../engines/types.js';
import { identityKey } from './cache.js';
import type { FeatureVolume } from './feature-volume.js';
import { equivalentRadius } from './instance.js';
import { contrastPolarity } from './particle.js';
import { buildQueries } from './query.js';
import type { Volume } from '../volume/volume.js';
import { meanVoxelSize } from '../volume/volume.js';
import type { Instance, MissingWedgeReport, QueryMode, VoxelPoint } from './types.js';

/** Version 2: `sources`, a reference merged from prompts in several tomograms (version 1 had one `source`). */
export const REFERENCE_VERSION = 2;

/** A tomogram whose prompts a reference was made from. */
export interface ReferenceSource {
  /** Its file, when known. */
  tomogram?: string;
  /** sha256 of its normalised voxels: a reference's prompted particles take part in a pick of this tomogram. */
  tomogramSha256: string;
  /** The prompts, in voxels. */
  prompts: VoxelPoint[];
}

export interface Reference {
  version: typeof REFERENCE_VERSION;
  /** The engines whose features the queries are: a reference only matches features of the same engines. */
  engines: { segmenter: EngineIdentity; features: EngineIdentity };
  /** Voxel size of the tomogram it was made in, Å. */
  voxelSizeA: number;
  /** Slice step of the feature volume the queries were pooled from. */
  featureSliceStep: number;
  /** Unit query vectors: one for 'mean' (the paper), one per prompt otherwise. */
  query: { mode: QueryMode; vectors: Float32Array[] };
  particle: {
    /** Mean voxel count of the prompted particles' masks. */
    meanVoxels: number;
    /** Radius in voxels of the sphere of that volume. */
    equivalentRadius: number;
    /** −1: darker than the surroundings (protein in most reconstructions), +1: brighter. */
    polarity: -1 | 1;
  };
  /** Where the prompts were given: one tomogram, or several for a merged reference (mergeReferences). */
  sources: ReferenceSource[];
  /** The prompted particles' instances in the only source tomogram (one per prompt; an empty mask where none was found); empty for a loaded or merged reference. */
  prompted: Instance[];
  /**
   * The self-template after a pick's template cut: the average of the prompts and the best matches
   * in a common frame, a cube of `size` samples (z, y, x) every `stride` voxels (`voxelSizeA` Å
   * apart), and the missing wedge the particles were compared under. Absent until a pick has made it.
   */
  average?: { data: Float32Array; size: number; stride: number; voxelSizeA: number; missingWedge: MissingWedgeReport };
}

/** Voxel sizes within this relative difference count as the same (features and particle sizes in voxels carry over). */
export const VOXEL_SIZE_TOLERANCE = 0.02;

/** Whether two voxel sizes (Å) are the same for a reference (VOXEL_SIZE_TOLERANCE). */
export function sameVoxelSize(a: number, b: number): boolean {
  return Math.abs(a / b - 1) <= VOXEL_SIZE_TOLERANCE;
}

/** Whether two references' engines are the same (a reference only matches features of its own engines). */
export function sameEngines(a: Reference['engines'], b: Reference['engines']): boolean {
  return identityKey(a.segmenter) === identityKey(b.segmenter) && identityKey(a.features) === identityKey(b.features);
}

/** Whether the tomogram with this content hash is one the reference's prompts were given in. */
export function isSourceOf(reference: Reference, tomogramSha256: string): boolean {
  return reference.sources.some((s) => s.tomogramSha256 === tomogramSha256);
}

/** The prompted instances that have a mask: what the reference's features, size and contrast come from. */
export function segmentedPrompts(reference: Reference): Instance[] {
  return reference.prompted.filter((inst) => inst.voxels > 0);
}

export interface ReferenceInput {
  tomogram: Volume;
  tomogramSha256: string;
  engines: Reference['engines'];
  prompts: readonly VoxelPoint[];
  /** One instance per prompt (src/pipeline/segment-prompts.ts). */
  prompted: Instance[];
  features: FeatureVolume;
  featureSliceStep: number;
  queryMode: QueryMode;
}

/** Stage 3 of a pick (the paper's query): the reference of the prompted particles. */
export function buildReference(input: ReferenceInput): Reference {
  const segmented = input.prompted.filter((inst) => inst.voxels > 0);
  const meanVoxels = segmented.reduce((s, inst) => s + inst.voxels, 0) / Math.max(1, segmented.length);
  return {
    version: REFERENCE_VERSION,
    engines: input.engines,
    voxelSizeA: meanVoxelSize(input.tomogram.voxelSize),
    featureSliceStep: input.featureSliceStep,
    query: { mode: input.queryMode, vectors: buildQueries(input.features, segmented, input.queryMode) },
    particle: { meanVoxels, equivalentRadius: equivalentRadius(meanVoxels), polarity: contrastPolarity(input.tomogram, segmented) },
    sources: [{ tomogramSha256: input.tomogramSha256, prompts: input.prompts.map((p) => ({ x: p.x, y: p.y, z: p.z })) }],
    prompted: input.prompted,
  };
}
