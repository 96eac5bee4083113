/**
 * Public types of the CryoSAM pipeline: options and results of prompt-based 3D segmentation and
 * of full-tomogram picking. Implemented by src/pipeline/cryosam.ts (class CryoSam).
 */
import type { Axis } from '../volume/volume.js';
import type { Pick } from '../io/coords/pick.js';
import type { AutoCutMethod } from './auto-cut.js';
import type { TiltRange } from '../volume/missing-wedge.js';
import type { CacheStats } from './cache.js';

/** A voxel position (x = column, y = row, z = section), as in Pick. */
export interface VoxelPoint {
  x: number;
  y: number;
  z: number;
}

export interface SegmentOptions {
  /** Propagation axes; ['z'] reproduces the released CryoSAM code, default all three. */
  axes?: Axis[];
  /** Stop a direction when IoU of adjacent slice masks < this (τ, default 0.5). */
  iouThreshold?: number;
  /** Stop a direction when the predicted mask score < this. */
  scoreThreshold?: number;
  /** Stop a direction when the slice mask area exceeds this multiple of the prompt slice's area. */
  maxAreaFactor?: number;
  /** Negative prompts (points that are not the particle). */
  negatives?: VoxelPoint[];
}

/** One segmented particle: a mask in its bounding box, so thousands of instances stay small. */
export interface InstanceMask {
  id: number;
  /** Inclusive-exclusive voxel bounds [z0, z1) × [y0, y1) × [x0, x1). */
  bbox: { z0: number; z1: number; y0: number; y1: number; x0: number; x1: number };
  /** bbox-local mask, C order over (z, y, x), 1 = inside. */
  mask: Uint8Array;
  voxels: number;
  centroid: VoxelPoint;
  /** Similarity of the proposal that seeded it (1 for user prompts). */
  score: number;
  /** True for a user prompt, false for a proposal found by matching. */
  prompted: boolean;
  /**
   * Agreement with the prompted particles, set by pick(): with autoCut 'template' (default) the NCC of
   * the aligned density with the self-template (src/pipeline/self-template.ts); with 'shape' or a
   * verifyThreshold the shape-signature correlation (src/pipeline/verify.ts).
   */
  verification?: number;
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

export interface PickOptions {
  /**
   * Number of proposals (NMS peaks, best first) that are segmented. 'auto' (default) segments peaks
   * until verification stops accepting them, at most AUTO_TOP_K_LIMIT.
   */
  topK?: number | 'auto';
  /** With topK 'auto': the rule that cuts the verified instances (default 'template'). */
  autoCut?: AutoCutMethod;
  matching?: 'hierarchical' | 'naive';
  /** Downsampling ratios of the feature pyramid, coarse to fine (default [16, 8, 4]). */
  pyramid?: number[];
  /** Positions below this cosine similarity are dropped at every level (default 0.5). */
  similarityThreshold?: number;
  /** How prompts make the query: masked average over all (paper), per-prompt max, or centre features. */
  query?: QueryMode;
  /** Encode every s-th slice along each axis (default chosen by the pipeline). */
  featureSliceStep?: number;
  /** NMS neighbourhood radius in voxels; default from the prompted particles' size. */
  nmsRadius?: number;
  /**
   * Segmented proposals whose volume lies outside [lo, hi] × the prompted particles' mean volume
   * are not the same kind of particle (default [0.5, 2]).
   */
  volumeRange?: [number, number];
  /**
   * Segmented proposals whose shape signature correlates less than this with the prompted
   * particles' mean signature are rejected at once (default -1: off; the 'shape' auto cut weighs the
   * signature instead of thresholding it). See src/pipeline/verify.ts.
   */
  verifyThreshold?: number;
  /**
   * The tilt range of the tomogram's tilt series, whose missing wedge the self-template comparison
   * leaves out: 'auto' (default) reads it off the tomogram's power spectrum
   * (src/volume/missing-wedge.ts), 'none' compares all Fourier components.
   */
  tiltRange?: TiltRange | 'auto' | 'none';
  segment?: SegmentOptions;
}

export interface StageReport {
  name: string;
  seconds: number;
  peakRssMiB: number;
}

export interface PickReport {
  stages: StageReport[];
  /** Slices sent through the feature encoder, per axis. */
  encoderPasses: Record<Axis, number>;
  /** Slices embedded by the segmenter. */
  segmenterEmbeddings: number;
  proposals: number;
  instances: number;
  picks: number;
  cacheHits: { features: number; embeddings: number };
  /** Cache problems met so far (corrupt entries recomputed, failed writes); absent without a cache. */
  cache?: CacheStats;
  /**
   * Segmented proposals rejected: no particle found, volume or shape unlike the prompts', a second
   * mask of a particle already found (same density centre), or below the automatic cut.
   */
  rejected: { empty: number; volume: number; shape: number; duplicate: number; cut: number };
  options: Record<string, unknown>;
}

export interface PickResult {
  /**
   * One pick per instance: its density centre in voxels (the centre of mass of the density around
   * the mask's centroid, src/pipeline/verify.ts densityCentre; a partial mask's centroid lies off
   * the particle's centre, its density centre does not), instanceId, the instance volume, the feature
   * similarity of its proposal (1 for prompts), and as `score` what ranked it for the automatic
   * cut: the self-template correlation after the 'template' cut (so that a threshold on the written
   * score, e.g. rlnAutopickFigureOfMerit or the viewer's slider, tightens that cut), else the similarity.
   */
  picks: (Pick & { voxels: number; volumeNm3: number; similarity: number; verification?: number })[];
  instances: InstanceMask[];
  report: PickReport;
}
