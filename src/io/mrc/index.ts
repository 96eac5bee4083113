/** MRC2014 reading and writing (.mrc .rec .map .mrcs .ccp4, plain, gzip or bzip2). */
export * from './header.js';
export * from './validate.js';
export * from './stats.js';
export * from './reader.js';
export * from './read.js';
export * from './write.js';
