/**
 * Public types of the CryoSAM pipeline: what segmenting and picking take and give. Implemented by
 * the stage modules of src/pipeline and put together by src/pipeline/cryosam.ts (class CryoSam).
 */
import type { Axis } from '../volume/volume.js';
import type { Pick } from '../io/coords/pick.js';
import type { TiltRange } from '../volume/missing-wedge.js';
import type { CacheStats } from './cache.js';
import type { LevelStats } from './matching.js';
import type { Reference } from './reference.js';

/** A voxel position (x = column, y = row, z = section), as in Pick. */
export interface VoxelPoint {
  x: number;
  y: number;
  z: number;
}

export interface SegmentOptions {
  /** Propagation axes (default DEFAULTS.segment.axes); ['z'] reproduces the released CryoSAM code. */
  axes?: Axis[];
  /** Stop a direction when IoU of adjacent slice masks < this (τ). */
  iouThreshold?: number;
  /** Stop a direction when the predicted mask score < this. */
  scoreThreshold?: number;
  /** Stop a direction when the slice mask area exceeds this multiple of the prompt slice's area. */
  maxAreaFactor?: number;
  /** Negative prompts (points that are not the particle). */
  negatives?: VoxelPoint[];
}

/** A particle's 3D mask, kept in its bounding box so that thousands of them stay small. */
export interface ParticleMask {
  /** Inclusive-exclusive voxel bounds [z0, z1) × [y0, y1) × [x0, x1). */
  bbox: { z0: number; z1: number; y0: number; y1: number; x0: number; x1: number };
  /** bbox-local mask, C order over (z, y, x), 1 = inside. */
  mask: Uint8Array;
  voxels: number;
  centroid: VoxelPoint;
}

/** A segmented particle of a segmentation or a pick: its mask, its number, and what found it. */
export interface Instance extends ParticleMask {
  /** 1-based: the value of its voxels in an instance label volume. */
  id: number;
  /** True for a user prompt, false for a proposal found by matching. */
  prompted: boolean;
  /** Feature similarity of the proposal that seeded it (1 for prompts). */
  similarity: number;
}

export type QueryMode = 'mean' | 'per-prompt' | 'centre';

/** What topK may be, in words, for error messages of the CLI, the viewer and the library alike. */
export const TOP_K_RULE = "a whole number of proposals ≥ 1, or 'auto'";

/**
 * The one rule for topK: 'auto' or a whole number ≥ 1 (0 proposals would return only the prompts,
 * which is what segment does).
 */
export function isTopK(value: unknown): value is number | 'auto' {
  return value === 'auto' || (typeof value === 'number' && Number.isInteger(value) && value >= 1);
}

/** How a reference is made from prompts (defaults in src/pipeline/defaults.ts). */
export interface ReferenceOptions {
  /** How prompts make the query: masked average over all (the paper), per-prompt max, or centre features. */
  query?: QueryMode;
  /** Encode every s-th slice along each axis. */
  featureSliceStep?: number;
  segment?: SegmentOptions;
}

/** How a pick runs (defaults in src/pipeline/defaults.ts); the reference options apply when prompts are given. */
export interface PickOptions extends ReferenceOptions {
  /**
   * Proposals (NMS peaks, best first) segmented. 'auto' (default): segmented until
   * autoStopAfterRejects in a row are rejected, in rounds (the paper's 512, then twice as many
   * while the cut keeps targets to a round's end), then the template cut chooses the count and a
   * pick's score is its template correlation; a number: that many, all kept that pass the volume
   * rule, and a pick's score is its feature similarity.
   */
  topK?: number | 'auto';
  matching?: 'hierarchical' | 'naive';
  /** Downsampling ratios of the feature pyramid, coarse to fine. */
  pyramid?: number[];
  /** Positions below this cosine similarity are dropped at every level. */
  similarityThreshold?: number;
  /** NMS neighbourhood radius in voxels; default the reference particle's equivalent radius. */
  nmsRadius?: number;
  /** Segmented proposals whose volume lies outside [lo, hi] × the reference particle's mean volume are rejected. */
  volumeRange?: [number, number];
  /**
   * The tilt range of the tomogram's tilt series, whose missing wedge the template cut leaves out:
   * 'auto' reads it off the tomogram's power spectrum (src/volume/missing-wedge.ts), 'none'
   * compares all Fourier components.
   */
  tiltRange?: TiltRange | 'auto' | 'none';
}

/** PickOptions with every default filled in, as the run report shows them. */
export interface ResolvedPickOptions {
  topK: number | 'auto';
  matching: 'hierarchical' | 'naive';
  pyramid: number[];
  similarityThreshold: number;
  query: QueryMode;
  featureSliceStep: number;
  nmsRadius: number | undefined;
  volumeRange: [number, number];
  tiltRange: TiltRange | 'auto' | 'none';
  /** Segment options, with the number of negative prompts. */
  segment: { axes: Axis[]; iouThreshold: number; scoreThreshold: number; maxAreaFactor: number; negatives: number };
}

/** The missing wedge the template cut left out, and where its tilt range came from. */
export type MissingWedgeReport = (TiltRange & { source: 'estimated' | 'given' }) | 'none';

export interface StageReport {
  name: string;
  seconds: number;
  /** Peak resident memory of the process at the stage's end, in MiB. */
  peakRssMiB: number;
}

/** How a pick voted the particle's size (src/pipeline/particle-size.ts). */
export interface ParticleSizeVote {
  /** Mean voxel count of the prompted particles' masks. */
  promptVoxels: number;
  /** Voxel counts of the best proposals that voted. */
  voterVoxels: number[];
  /** The particle's volume from here on: the median of the prompts' and voters' volumes, or the prompts' mean when that median is within √2× of it. */
  votedVoxels: number;
}

export interface PickReport {
  stages: StageReport[];
  /** Slices sent through the feature encoder, per axis. */
  encoderPasses: Record<Axis, number>;
  /** Slices embedded by the segmenter. */
  segmenterEmbeddings: number;
  /** Proposals that could be segmented: matching peaks, best first, at most top-K (or the automatic count's limit). */
  proposals: number;
  /** Proposals segmented: the others lay on a particle already found, or came after the automatic count's stop rule. */
  segmented: number;
  instances: number;
  picks: number;
  cacheHits: { features: number; embeddings: number };
  /** Cache problems met so far (corrupt entries recomputed, failed writes); absent without a cache. */
  cache?: CacheStats;
  /**
   * Segmented proposals rejected: no particle found, a volume unlike the reference's, a second mask
   * of a particle already found (same density centre), below the template cut, or split off as a
   * look-alike (src/pipeline/look-alikes.ts).
   */
  rejected: { empty: number; volume: number; duplicate: number; cut: number; lookAlike: number };
  /** The particle size the best matches voted, when prompts were given in this tomogram. */
  particleSize?: ParticleSizeVote;
  /**
   * Where the instances' masks come from: the template cut's self-template average, turned onto each
   * particle (src/pipeline/average-masks.ts), or each particle's own segmentation (no cut, or an
   * average that shows no particle).
   */
  masks: 'average' | 'segmented';
  options: ResolvedPickOptions & {
    /** NMS radius used, in voxels. */
    nmsRadius: number;
    /** NMS peaks found by matching. */
    peaks: number;
    levels: LevelStats[];
    featureBytes: number;
    missingWedge: MissingWedgeReport;
  };
}

/** One pick: a particle's density centre in voxels, its instance, and the scores that ranked it. */
export type ParticlePick = Pick & {
  /** What ranked the pick and is written to coordinate files: the template correlation with topK 'auto', else the similarity. */
  score: number;
  /** Feature similarity of its proposal (1 for prompts). */
  similarity: number;
  /** NCC of its aligned density with the self-template (−1..1), with topK 'auto'. */
  templateCorrelation?: number;
  instanceId: number;
  voxels: number;
  volumeNm3: number;
};

export interface PickResult {
  /**
   * One pick per instance, at its density centre (src/pipeline/particle.ts densityCentre: a
   * partial mask's centroid lies off the particle's centre, its density centre does not).
   */
  picks: ParticlePick[];
  instances: Instance[];
  /** The reference the pick used, with the self-template its template cut refined (Reference.average). */
  reference: Reference;
  report: PickReport;
}
