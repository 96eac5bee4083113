/** Synthetic tomograms with exact ground truth from real density maps (cryosam simulate). */
export { simulateTomogram, defaultMapsDir, type Simulation, type SimulatedClass, type SimulateOptions } from './simulate.js';
export { writeSimulation, DEFAULT_TRUTH_FORMAT, SIMULATION_TOMO_NAME, type SimulationFiles } from './write.js';
export { validateConfig, targetClasses, simulationConfigSchema, type SimulationConfig, type ParticleClassConfig } from './config.js';
export { PRESETS, listPresets, presetConfig, SHREC_PROTEINS } from './presets.js';
export { availableMaps, MAP_VOXEL_SIZE_A } from './template.js';
