/** 'cryosam/volume': volume arrays, slices, normalisation, filters, statistics, resampling. */
export * from './volume.js';
export * from './slice.js';
export * from './normalize.js';
export * from './gaussian.js';
export * from './stats.js';
export * from './resample.js';
