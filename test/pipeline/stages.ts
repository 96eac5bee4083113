/** A small easy tomogram (toy engines) and an embedding store over it, for the stage modules' tests. */
import { EmbeddingStore } from '../../src/pipeline/embedding-store.js';
import { normalizeRobust } from '../../src/volume/normalize.js';
import { scatter, synthetic, type Particle } from './synthetic.js';
import { ToyFeatures, ToySegmenter } from './toy-engines.js';

export const SHAPE = [40, 56, 56] as const;

export function easyStage(): { particles: Particle[]; tomogram: ReturnType<typeof synthetic>['volume']; labels: Int32Array; store: EmbeddingStore; features: ToyFeatures } {
  const particles = scatter(SHAPE, 16, 10, ['sphere'], 2);
  const s = synthetic(SHAPE, particles, { radius: 4, contrast: 3, seed: 8 });
  normalizeRobust(s.volume, {}, true);
  const store = new EmbeddingStore(s.volume, new ToySegmenter(), undefined, 'stages');
  return { particles, tomogram: s.volume, labels: s.labels, store, features: new ToyFeatures() };
}
