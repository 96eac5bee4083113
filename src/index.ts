/**
 * cryosam as a library: the user's objects. A CryoSam per tomogram segments particles from point
 * prompts, makes a Reference from them and picks every particle like it; MRC and coordinate files
 * are read and written here too. Evaluation and simulation are in 'cryosam/eval', volume helpers in
 * 'cryosam/volume'. The CLI (src/cli) is built on exactly these pieces.
 */
export { CryosamError, NoStructureError } from './errors.js';
export type { ProgressCallback, ProgressEvent } from './progress.js';

// The pipeline
export { CryoSam, type CryoSamOptions } from './pipeline/cryosam.js';
export { REFERENCE_VERSION, type Reference, type ReferenceSource } from './pipeline/reference.js';
export { loadReference, saveReference } from './pipeline/reference-file.js';
export { mergeReferences, referenceFromTomograms, type PromptedTomogram, type MergedReferenceResult } from './pipeline/reference-merge.js';
export { DEFAULTS } from './pipeline/defaults.js';
export type { StructureKind, StructureSegmentation, FilamentReport, MembraneReport, ClickedPlane } from './pipeline/structure.js';
export { instancesToLabels, instancesToSemantic } from './pipeline/labels.js';
export type {
  VoxelPoint, SegmentOptions, ReferenceOptions, PickOptions, PickResult, PickReport, ParticlePick, Instance, ParticleMask, QueryMode,
} from './pipeline/types.js';

// Tomogram and coordinate files
export { readMrc, readMrcHeader, writeMrc, MrcReader, requireVoxelSize, type MrcHeader } from './io/mrc/index.js';
export { readPicks, writePicks, COORD_FORMATS, type Pick, type CoordFormat, type CoordFrame } from './io/coords/index.js';
export type { Volume, Shape3, VoxelSize } from './volume/volume.js';

// Engines: the two interfaces, and the built-in and ONNX ones by name
export { createEngines, describeEngineNames, type EngineOptions, type Engines } from './engines/registry.js';
export type { PromptableSegmenter, FeatureExtractor, EngineIdentity } from './engines/types.js';
