/**
 * cryosam as a library: the CryoSAM pipeline (CryoSam), tomogram and coordinate I/O, engines,
 * volume helpers and evaluation. The CLI (src/cli) is built on exactly these pieces.
 */
export { CryosamError } from './errors.js';
export type { ProgressCallback, ProgressEvent } from './progress.js';
export { sharedDir, modelsDir, cacheDir } from './paths.js';

// Pipeline
export {
  CryoSam, DEFAULT_TOP_K, AUTO_TOP_K_LIMIT, AUTO_STOP_AFTER_REJECTS, DEFAULT_VOLUME_RANGE, DEFAULT_VERIFY_THRESHOLD, checkPromptInside, type CryoSamOptions,
} from './pipeline/cryosam.js';
export { shapeSignature, signatureCorrelation, signatureGeometry, meanSignature, densityCentre, contrastPolarity } from './pipeline/verify.js';
export { instancesToLabels, instancesToSemantic } from './pipeline/labels.js';
export { DiskCache, DEFAULT_CACHE_LIMIT_BYTES, tomogramHash, type CacheInfo } from './pipeline/cache.js';
export { AUTO_CUT_METHODS, DEFAULT_AUTO_CUT, autoCut, type AutoCutMethod } from './pipeline/auto-cut.js';
export { SEGMENT_DEFAULTS } from './pipeline/self-prompting.js';
export { DEFAULT_PYRAMID, DEFAULT_SIMILARITY_THRESHOLD } from './pipeline/matching.js';
export { DEFAULT_FEATURE_SLICE_STEP } from './pipeline/feature-volume.js';
export type {
  VoxelPoint, SegmentOptions, InstanceMask, QueryMode, PickOptions, StageReport, PickReport, PickResult,
} from './pipeline/types.js';

// Tomogram and coordinate files
export * from './io/mrc/index.js';
export * from './io/coords/index.js';
export { writeAtomic, writeFileAtomic } from './io/atomic.js';

// Engines
export { createEngines, parseEngineName, describeEngineNames, DEFAULT_ENGINE, type EngineOptions, type Engines } from './engines/registry.js';
export type * from './engines/types.js';

// Volumes
export * from './volume/volume.js';
export * from './volume/slice.js';
export * from './volume/normalize.js';
export * from './volume/gaussian.js';
export * from './volume/stats.js';
export * from './volume/resample.js';

// Evaluation
export * from './eval/score.js';
export * from './eval/segmentation.js';
export * from './eval/simulate/index.js';
