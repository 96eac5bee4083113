/**
 * The two 2D model roles CryoSAM stands on. Any engine (ONNX SAM/DINOv2/XFeat, or the weight-free
 * classical one) implements these; the pipeline only talks to these interfaces.
 */

import type { IntensityStats } from '../volume/stats.js';
import type { Slice2D } from '../volume/slice.js';

export type { IntensityStats, Slice2D };

/** What identifies an engine's results, for cache keys and run reports. */
export interface EngineIdentity {
  /** e.g. "classical-segmenter", "sam-vit-b", "dinov2-vits14-reg", "xfeat". */
  name: string;
  /** sha256 of the weights file(s); absent for weight-free engines. */
  weightsSha256?: string;
  /** Every parameter that changes outputs. */
  params: Record<string, unknown>;
}

/** A point prompt in slice pixel coordinates (x = column, y = row). label 1 = positive, 0 = negative. */
export interface PointPrompt {
  x: number;
  y: number;
  label: 0 | 1;
}

/** Low-resolution mask logits (SAM: 256×256 in the padded 1024 frame); > 0 means inside. */
export interface LowResLogits {
  data: Float32Array;
  height: number;
  width: number;
}

/** Opaque per-slice embedding produced by a segmenter; only that segmenter decodes it. */
export interface SliceEmbedding {
  readonly height: number;
  readonly width: number;
  /** Bytes it holds in memory, where the engine knows them (else the embedding store serialises it to measure). */
  readonly byteLength?: number;
}

export interface SegmentRequest {
  points: PointPrompt[];
  /** The previous slice's low-res logits, used as a mask prompt (shape prior). */
  maskInput?: LowResLogits;
  /** Ask for several candidate masks (SAM multimask output); default false. */
  multimask?: boolean;
}

export interface SegmentResult {
  /** Candidate masks at slice resolution, each height*width, 1 = inside. */
  masks: Uint8Array[];
  /** Predicted IoU (quality score) of each candidate, in [0, 1] for well-behaved engines. */
  scores: Float32Array;
  /** Low-res logits of each candidate, to prompt the next slice with. */
  lowRes: LowResLogits[];
  /**
   * The most confident point of each candidate in slice pixels (argmax of its logits inside the
   * mask); the engine knows its logits' frame, so it maps the point back. Used to prompt the next slice.
   */
  bestPoints: { x: number; y: number }[];
}

export interface PromptableSegmenter {
  identity(): EngineIdentity;
  /** The expensive step: embed each slice once; the result can be decoded many times. */
  embed(slices: Slice2D[]): Promise<SliceEmbedding[]>;
  decode(embedding: SliceEmbedding, request: SegmentRequest): Promise<SegmentResult>;
  /** Serialises an embedding for the on-disk cache, and reads it back (same engine identity). */
  serializeEmbedding(embedding: SliceEmbedding): Uint8Array;
  deserializeEmbedding(bytes: Uint8Array): SliceEmbedding;
  /**
   * Optional: the exact size of a serialised embedding of a height × width slice, when it follows
   * from the slice alone; then the threads of a pick share one arena of embeddings.
   */
  embeddingBytes?(height: number, width: number): number;
  /** Optional: scale every slice with these tomogram-wide statistics instead of per-slice ones. */
  setVolumeStats?(stats: IntensityStats | undefined): void;
  /** Releases native memory (ONNX sessions). */
  dispose(): Promise<void>;
}

/** Patch features of one slice, channel-last: value(row, col, ch) = data[(row * width + col) * channels + ch]. */
export interface FeatureGrid {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
  /** Slice pixels per grid cell; grid cell (r, c) covers pixels [r*stride, (r+1)*stride). */
  stride: number;
}

export interface FeatureExtractor {
  identity(): EngineIdentity;
  extract(slices: Slice2D[]): Promise<FeatureGrid[]>;
  /** Optional: scale every slice with these tomogram-wide statistics instead of per-slice ones. */
  setVolumeStats?(stats: IntensityStats | undefined): void;
  dispose(): Promise<void>;
}
