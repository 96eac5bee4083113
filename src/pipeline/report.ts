/** The run report of a pick, assembled from what its stages returned. */
import type { Axis } from '../volume/volume.js';
import type { CacheStats } from './cache.js';
import type { MatchResult } from './matching.js';
import type { MissingWedgeReport, ParticleSizeVote, PickReport, ResolvedPickOptions, StageReport } from './types.js';

/** Running totals of a CryoSam's encoders (a pick reports the difference over its run). */
export interface EncoderCounters {
  encoderPasses: Record<Axis, number>;
  featureCacheHits: number;
  embedded: number;
  embeddingCacheHits: number;
}

export interface PickReportInput {
  stages: StageReport[];
  before: EncoderCounters;
  counters: EncoderCounters;
  cache: CacheStats | undefined;
  proposals: number;
  segmented: number;
  instances: number;
  picks: number;
  rejected: PickReport['rejected'];
  options: ResolvedPickOptions;
  nmsRadius: number;
  match: MatchResult;
  featureBytes: number;
  missingWedge: MissingWedgeReport;
  particleSize: ParticleSizeVote | undefined;
  masks: PickReport['masks'];
}

export function pickReport(r: PickReportInput): PickReport {
  const passes = (axis: Axis) => r.counters.encoderPasses[axis] - r.before.encoderPasses[axis];
  return {
    stages: r.stages,
    encoderPasses: { z: passes('z'), y: passes('y'), x: passes('x') },
    segmenterEmbeddings: r.counters.embedded - r.before.embedded,
    proposals: r.proposals,
    segmented: r.segmented,
    instances: r.instances,
    picks: r.picks,
    cacheHits: { features: r.counters.featureCacheHits - r.before.featureCacheHits, embeddings: r.counters.embeddingCacheHits - r.before.embeddingCacheHits },
    ...(r.cache ? { cache: { ...r.cache } } : {}),
    rejected: r.rejected,
    ...(r.particleSize ? { particleSize: r.particleSize } : {}),
    masks: r.masks,
    options: { ...r.options, nmsRadius: r.nmsRadius, peaks: r.match.peaks.length, levels: r.match.levels, featureBytes: r.featureBytes, missingWedge: r.missingWedge },
  };
}
