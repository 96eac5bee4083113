import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the installed package (the folder holding package.json), from src/ or dist/src/. */
export function packageRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '..', '..') : path.resolve(here, '..');
}

/** Third-party data for tests and benchmarks: $CRYOSAM_SHARED, else ../shared beside the project. */
export function sharedDir(): string {
  return process.env.CRYOSAM_SHARED ?? path.resolve(packageRoot(), '..', 'shared');
}

/** Model weights: $CRYOSAM_MODELS, else ~/.cache/cryosam/models. */
export function modelsDir(): string {
  return process.env.CRYOSAM_MODELS ?? path.join(os.homedir(), '.cache', 'cryosam', 'models');
}

/** Embedding and feature cache: $CRYOSAM_CACHE, else ~/.cache/cryosam/cache. */
export function cacheDir(): string {
  return process.env.CRYOSAM_CACHE ?? path.join(os.homedir(), '.cache', 'cryosam', 'cache');
}
