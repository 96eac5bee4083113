/** Synthetic tomograms with exact ground truth from real density maps (cryosam simulate). */
export { simulateTomogram, defaultMapsDir, type Simulation, type SimulatedClass, type SimulateOptions } from './simulate.js';
export { writeSimulation, DEFAULT_TRUTH_FORMAT, SIMULATION_TOMO_NAME, type SimulationFiles } from './write.js';
export {
  validateConfig,
  targetClasses,
  simulationConfigSchema,
  NO_FILAMENTS,
  NO_SHEETS,
  type SimulationConfig,
  type ParticleClassConfig,
  type FilamentsConfig,
  type SheetsConfig,
} from './config.js';
export { PRESETS, listPresets, presetConfig, SHREC_PROTEINS } from './presets.js';
export { availableMaps, MAP_VOXEL_SIZE_A } from './template.js';
export { type SimulatedStructures, type StructureVolumes, sceneHasStructures } from './scene.js';
export { type SimulatedFilament, type FilamentKind, FILAMENT_LABEL, AXIS_STEP } from './filaments.js';
export { type SimulatedMembrane, type MembraneKind, type MembraneSurface, MEMBRANE_LABEL, MEASURED_FREQUENCY } from './membranes.js';
export { writeStructures, filamentsStar, type StructureFiles } from './write-structures.js';
