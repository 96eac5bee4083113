/** 'cryosam/eval': scoring picks and masks against ground truth, and the simulator that makes it. */
export * from './score.js';
export * from './segmentation.js';
export * from './simulate/index.js';
export * from './structures.js';
