/** PickOptions checked and completed from the table of defaults (src/pipeline/defaults.ts). */
import { CryosamError } from '../errors.js';
import { DEFAULTS } from './defaults.js';
import { resolveSegmentOptions, type ResolvedSegmentOptions } from './self-prompting.js';
import { isTopK, TOP_K_RULE, type PickOptions, type ResolvedPickOptions } from './types.js';

export function resolvePickOptions(opts: PickOptions): { options: ResolvedPickOptions; segment: ResolvedSegmentOptions } {
  const d = DEFAULTS.pick;
  const segment = resolveSegmentOptions(opts.segment);
  const options: ResolvedPickOptions = {
    topK: opts.topK ?? d.topK,
    matching: opts.matching ?? d.matching,
    pyramid: opts.pyramid ?? [...d.pyramid],
    similarityThreshold: opts.similarityThreshold ?? d.similarityThreshold,
    query: opts.query ?? d.query,
    featureSliceStep: opts.featureSliceStep ?? d.featureSliceStep,
    nmsRadius: opts.nmsRadius,
    volumeRange: opts.volumeRange ?? [...d.volumeRange],
    tiltRange: opts.tiltRange ?? d.tiltRange,
    segment: { ...segment, negatives: segment.negatives.length },
  };
  if (!isTopK(options.topK)) throw new CryosamError(`topK must be ${TOP_K_RULE}, got ${options.topK}`);
  if (options.pyramid.length === 0 || options.pyramid.some((r) => !Number.isInteger(r) || r < 1)) {
    throw new CryosamError(`pyramid ratios must be positive integers, got ${options.pyramid.join(',')}`);
  }
  const [lo, hi] = options.volumeRange;
  if (!(lo >= 0 && hi > lo)) throw new CryosamError(`volumeRange must be [lo, hi] with 0 ≤ lo < hi, got ${lo},${hi}`);
  return { options, segment };
}
