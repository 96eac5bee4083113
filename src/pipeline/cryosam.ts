/**
 * CryoSam: the user API of the pipeline, a thin predictor over the stage modules, like SAM's.
 * Create it once per tomogram, then segment particles from point prompts, make a Reference from
 * prompts, or pick every particle like a reference:
 *
 *   segment prompts → features → reference (query, size, contrast) → matching →
 *   segment proposals → template cut → picks
 *
 * Slice embeddings and feature grids are computed lazily, once per tomogram, and cached on disk.
 */
import os from 'node:os';
import type { EngineOptions } from '../engines/registry.js';
import type { FeatureExtractor, PromptableSegmenter } from '../engines/types.js';
import { CryosamError } from '../errors.js';
import { cacheDir as defaultCacheDir } from '../paths.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import { estimateTiltRange, measuredRegion, type EstimatedTiltRange } from '../volume/missing-wedge.js';
import { gaussianFilter3d } from '../volume/gaussian.js';
import { normalizeRobust } from '../volume/normalize.js';
import { intensityStats, type IntensityStats } from '../volume/stats.js';
import { isInsideVolume, meanVoxelSize, voxelCount, type Axis, type Shape3, type Volume } from '../volume/volume.js';
import { cacheKey, DEFAULT_CACHE_LIMIT_BYTES, DiskCache, identityKey, tomogramHash } from './cache.js';
import { DEFAULTS } from './defaults.js';
import { EmbeddingStore } from './embedding-store.js';
import { FeatureVolume } from './feature-volume.js';
import { pointMask } from './instance.js';
import { matchFeatures, type MatchResult } from './matching.js';
import type { Peak } from './nms.js';
import { voteParticleSize, voterPeaks, withParticleSize } from './particle-size.js';
import { resolvePickOptions } from './options.js';
import { centreGeometry, densityCentre } from './particle.js';
import { masksFromAverage } from './average-masks.js';
import { toPicks } from './picks.js';
import { buildReference, isSourceOf, REFERENCE_VERSION, sameEngines, sameVoxelSize, type Reference } from './reference.js';
import { pickReport } from './report.js';
import { segmentClick, segmentPrompts } from './segment-prompts.js';
import { autoProposalLimit, segmentProposals } from './segment-proposals.js';
import { resolveSegmentOptions, segmentFromPrompt, type ResolvedSegmentOptions } from './self-prompting.js';
import { StageTimer } from './stage-timer.js';
import { findStructure, segmentStructure, type StructureKind, type StructureSegmentation } from './structure.js';
import { findStructures, type FoundStructure, type StructureSearch } from './structure-pick.js';
import { buildQueries } from './query.js';
import { extendCut, targetsRunPast, templateCut, type TemplateCutInput } from './template-cut.js';
import { splitLookAlikes } from './look-alikes.js';
import { SharedEmbeddings } from './shared-embeddings.js';
import { SegmentWorkers } from './worker-pool.js';
import type { Instance, MissingWedgeReport, ParticleMask, ParticleSizeVote, PickOptions, PickResult, ReferenceOptions, ResolvedPickOptions, SegmentOptions, StageReport, VoxelPoint } from './types.js';

export interface CryoSamOptions {
  engine?: EngineOptions;
  /** Engines built by the caller (e.g. custom implementations); they are not disposed by CryoSam. */
  engines?: { segmenter: PromptableSegmenter; features: FeatureExtractor };
  /** Folder of the embedding/feature cache; false disables it. Default cacheDir() (src/paths.ts). */
  cacheDir?: string | false;
  cacheLimitBytes?: number;
  /**
   * Normalise (median 0, robust σ 1) the caller's Float32 tomogram array in place instead of a copy
   * (the smoothed tomogram particles are found in is a copy either way, unless `structures` is
   * false): saves one copy of a large tomogram, and changes the caller's array. Default false.
   */
  normalizeInPlace?: boolean;
  /**
   * Keep the unsmoothed tomogram that filaments and membranes are traced in (default true). false:
   * particles only, with one copy of the tomogram fewer (on one thread the smoothing is done in
   * place); segmentStructure and pickStructures then throw. particlesOnly() drops it later.
   */
  structures?: boolean;
  /**
   * Worker threads that segment proposals (default: the machine's cores; 1: none). They need
   * engines made from `engine` options, and read the smoothed tomogram from shared memory.
   */
  workers?: number;
  onProgress?: ProgressCallback;
}

/** Every filament or membrane like the clicked one, from CryoSam.pickStructures. */
export interface StructurePickResult {
  kind: 'filament' | 'membrane';
  /** The clicked structure's segmentation. */
  clicked: StructureSegmentation;
  /** One instance per structure found, the clicked one first (id 1). */
  instances: Instance[];
  /** The same structures with their filament axes or membrane sheets (same order as instances). */
  structures: FoundStructure[];
  report: {
    stages: StageReport[];
    /** Matching peaks, and those used as seeds (best first, at most DEFAULTS.structure.maxSeeds). */
    peaks: number;
    seeds: number;
    /** Seeds traced or grown (the rest lay on a structure already found, or came after the stop). */
    tried: number;
    found: number;
    rejected: StructureSearch['rejected'];
    /** NMS radius of the matching, in voxels. */
    nmsRadius: number;
  };
}

/** Throws unless p lies inside the tomogram (src/volume/volume.ts isInsideVolume). */
function checkPromptInside(p: VoxelPoint, shape: Shape3, what = 'prompt'): void {
  if (isInsideVolume(p, shape)) return;
  const [nz, ny, nx] = shape;
  throw new CryosamError(`${what} at x=${p.x}, y=${p.y}, z=${p.z} lies outside the tomogram (x 0..${nx - 1}, y 0..${ny - 1}, z 0..${nz - 1})`);
}

/** With this many proposals or more, the workers embed every slice first (a pick of hundreds visits nearly all). */
const PREFILL_PROPOSALS = 32;

interface ParallelSettings {
  workers: number;
  engine: EngineOptions;
  volumeStats: IntensityStats | undefined;
  cacheDir: string | undefined;
  cacheLimitBytes: number;
}

export class CryoSam {
  private readonly store: EmbeddingStore;
  /** Slice embeddings shared by this thread and the workers (undefined: no workers, or an engine whose embeddings cannot be shared). */
  private readonly sharedEmbeddings: SharedEmbeddings | undefined;
  private readonly featureVolumes = new Map<number, FeatureVolume>();
  /** Feature-encoder passes and cache hits so far, so a pick reports its own. */
  private readonly featureCounters = { encoderPasses: { z: 0, y: 0, x: 0 } as Record<Axis, number>, cacheHits: 0 };
  private estimatedTiltRange: EstimatedTiltRange | null | undefined;

  private constructor(
    /** The tomogram normalised (median 0, robust σ 1), then smoothed (DEFAULTS.smoothingSigma): what particles are found in. */
    readonly tomogram: Volume,
    /**
     * The tomogram normalised but not smoothed: what filaments and membranes are traced and grown
     * in (structure.ts), whose rules were measured on the density as reconstructed and which smoothing
     * turned (microtubule walls grown as membranes: docs/defaults.md).
     */
    private unsmoothed: Volume | undefined,
    private readonly segmenter: PromptableSegmenter,
    private readonly features: FeatureExtractor,
    private readonly disposeEngines: (() => Promise<void>) | undefined,
    private readonly cache: DiskCache | undefined,
    /** sha256 of the smoothed voxel data. */
    readonly contentHash: string,
    private readonly onProgress: ProgressCallback,
    /** How proposals are segmented on worker threads; undefined: on this thread. */
    private readonly parallel: ParallelSettings | undefined,
  ) {
    // With workers, every thread's slice embeddings (this one's too) go to one shared arena.
    this.sharedEmbeddings = parallel ? SharedEmbeddings.create(tomogram.shape, segmenter) : undefined;
    this.store = new EmbeddingStore(tomogram, segmenter, cache, this.embeddingKey(), undefined, this.sharedEmbeddings);
  }

  private embeddingKey(): string {
    return cacheKey(this.contentHash, identityKey(this.segmenter.identity()));
  }

  static async create(tomogram: Volume, opts: CryoSamOptions = {}): Promise<CryoSam> {
    if (!(tomogram.data instanceof Float32Array)) throw new CryosamError('CryoSam needs a Float32 tomogram');
    const [nz, ny, nx] = tomogram.shape;
    if (nz < 1 || ny < 1 || nx < 1 || tomogram.data.length !== nz * ny * nx) {
      throw new CryosamError(`tomogram shape ${nz}×${ny}×${nx} does not match its ${tomogram.data.length} voxels`);
    }
    const workers = opts.engines ? 1 : Math.max(1, Math.floor(opts.workers ?? os.availableParallelism()));
    const own = opts.normalizeInPlace === true ? tomogram : { ...tomogram, data: tomogram.data.slice() };
    const normalised = normalizeRobust(own, {}, true);
    const unsmoothed = opts.structures === false ? undefined : normalised;
    // Worker threads read the smoothed tomogram from shared memory: smooth into a shared buffer;
    // on one thread, without structures, in place.
    const smoothedData = workers > 1 ? new Float32Array(new SharedArrayBuffer(normalised.data.byteLength)) : unsmoothed ? undefined : normalised.data;
    // Not normalised again: a particle keeps the contrast it has in the tomogram as reconstructed.
    const smoothed = gaussianFilter3d(normalised, DEFAULTS.smoothingSigma, smoothedData);
    const hash = tomogramHash(smoothed.data);
    let segmenter: PromptableSegmenter, features: FeatureExtractor, dispose: (() => Promise<void>) | undefined;
    if (opts.engines) {
      ({ segmenter, features } = opts.engines);
    } else {
      // Loaded on demand: callers with their own engines never load the native ONNX runtime.
      const { createEngines } = await import('../engines/registry.js');
      const engines = await createEngines(opts.engine);
      ({ segmenter, features } = engines);
      dispose = () => engines.dispose();
    }
    // One intensity scaling for every slice, as the CryoSAM reference normalises DINOv2 input by
    // the tomogram's mean/std: a particle keeps its grey level on every slice it crosses.
    const volumeStats = segmenter.setVolumeStats || features.setVolumeStats ? intensityStats(smoothed.data) : undefined;
    segmenter.setVolumeStats?.(volumeStats);
    features.setVolumeStats?.(volumeStats);
    const cacheDir = opts.cacheDir === false ? undefined : (opts.cacheDir ?? defaultCacheDir());
    const cacheLimitBytes = opts.cacheLimitBytes ?? DEFAULT_CACHE_LIMIT_BYTES;
    const cache = cacheDir === undefined ? undefined : new DiskCache(cacheDir, cacheLimitBytes);
    const parallel = workers > 1 ? { workers, engine: opts.engine ?? {}, volumeStats, cacheDir, cacheLimitBytes } : undefined;
    return new CryoSam(smoothed, unsmoothed, segmenter, features, dispose, cache, hash, opts.onProgress ?? noProgress, parallel);
  }

  get shape(): Shape3 {
    return this.tomogram.shape;
  }

  /**
   * From here on this session picks particles only: frees the unsmoothed tomogram that filaments
   * and membranes are traced in (one tomogram's memory, once the caller holds no copy of it either).
   */
  particlesOnly(): void {
    this.unsmoothed = undefined;
  }

  /** The unsmoothed tomogram, for filaments and membranes. */
  private structureTomogram(): Volume {
    if (!this.unsmoothed) throw new CryosamError('this session picks particles only (created with structures: false, or particlesOnly() was called): filaments and membranes need the unsmoothed tomogram');
    return this.unsmoothed;
  }

  /** Engine identities, for run reports and references. */
  engineIdentities(): Reference['engines'] {
    return { segmenter: this.segmenter.identity(), features: this.features.identity() };
  }

  /**
   * Segments the particle under one point prompt in 3D (cross-plane self-prompting), as instance 1;
   * a click well off the particle's density centre is segmented from that centre (segment-prompts.ts).
   * When no plane yields a mask, the instance is the prompt's voxel alone.
   */
  async segment(prompt: VoxelPoint, opts: SegmentOptions = {}): Promise<Instance> {
    const segment = this.checkedSegmentOptions([prompt], opts);
    const mask = (await segmentClick(this.store, this.tomogram, prompt, segment)) ?? pointMask(prompt, this.shape);
    return { ...mask, id: 1, prompted: true, similarity: 1 };
  }

  /**
   * Segments what was clicked in 3D: a round particle as segment() does, a filament followed along
   * its axis, or a membrane grown over its sheet (structure.ts). 'auto' (default) decides from the
   * clicked slices' masks; a named kind that is not there, or a click with nothing under it (no
   * slice gives a mask, or the mask does not stand out of the noise: empty ice), throws "no … found at …".
   */
  async segmentStructure(prompt: VoxelPoint, kind: StructureKind | 'auto' = DEFAULTS.structure.kind, opts: SegmentOptions = {}): Promise<StructureSegmentation & { instance: Instance }> {
    const segment = this.checkedSegmentOptions([prompt], opts);
    const found = await segmentStructure({ store: this.store, tomogram: this.tomogram, unsmoothed: this.structureTomogram(), click: prompt, kind, segment });
    return { ...found, instance: { ...found.mask, id: 1, prompted: true, similarity: 1 } };
  }

  /**
   * Every filament or membrane like the clicked one (structure-pick.ts): the clicked structure is
   * segmented, its features matched, and each seed traced or grown. Undefined when the click is a
   * round particle ('auto'): pick() is for those.
   */
  async pickStructures(prompt: VoxelPoint, kind: 'auto' | 'filament' | 'membrane' = 'auto', opts: PickOptions = {}): Promise<StructurePickResult | undefined> {
    const { options, segment } = resolvePickOptions(opts);
    checkPromptInside(prompt, this.shape);
    const timer = new StageTimer();
    // A particle is left to pick(), which segments its prompts itself: not segmented twice.
    const unsmoothed = this.structureTomogram();
    const clicked = await timer.time('segment prompt', () => findStructure({ store: this.store, tomogram: this.tomogram, unsmoothed, click: prompt, kind, segment }));
    if (!clicked) return undefined;
    const features = await timer.time('features', () => this.featureVolume(options.featureSliceStep));
    const query = await timer.time('query', () => buildQueries(features, [clicked.mask], 'mean'));
    const nmsRadius = clicked.filament ? clicked.filament.outerDiameterA / 2 / meanVoxelSize(this.tomogram.voxelSize) : 2 * clicked.sizes.membrane.spacing;
    const matched = await timer.time('matching', () => matchFeatures(features, query, { mode: options.matching, pyramid: options.pyramid, similarityThreshold: options.similarityThreshold, nmsRadius }, this.onProgress));
    const peaks = matched.peaks.slice(0, DEFAULTS.structure.maxSeeds);
    const search = await timer.time(clicked.kind === 'filament' ? 'trace filaments' : 'grow membranes', () =>
      findStructures({ tomogram: unsmoothed, clicked, click: prompt, peaks, stopAfterRejects: DEFAULTS.pick.autoStopAfterRejects, onProgress: this.onProgress }));
    const instances: Instance[] = search.found.map((f, i) => ({ ...f.mask, id: i + 1, prompted: i === 0, similarity: f.similarity }));
    return {
      kind: clicked.kind,
      clicked,
      instances,
      structures: search.found,
      report: { stages: timer.stages, peaks: matched.peaks.length, seeds: peaks.length, tried: search.tried, found: search.found.length, rejected: search.rejected, nmsRadius },
    };
  }

  /** The reference of the prompted particles: their 3D masks, query features, size and contrast. */
  async reference(prompts: readonly VoxelPoint[], opts: ReferenceOptions = {}, timer = new StageTimer()): Promise<Reference> {
    if (prompts.length === 0) throw new CryosamError('a reference needs at least one prompt');
    const segment = this.checkedSegmentOptions(prompts, opts.segment ?? {});
    const step = opts.featureSliceStep ?? DEFAULTS.pick.featureSliceStep;
    const prompted = await timer.time('segment prompts', () => segmentPrompts({ store: this.store, tomogram: this.tomogram, prompts, segment, onProgress: this.onProgress }));
    const features = await timer.time('features', () => this.featureVolume(step));
    return timer.time('query', () =>
      buildReference({ tomogram: this.tomogram, tomogramSha256: this.contentHash, engines: this.engineIdentities(), prompts, prompted, features, featureSliceStep: step, queryMode: opts.query ?? DEFAULTS.pick.query }),
    );
  }

  /** Picks (and segments) every particle like the prompted ones, or like a reference made in this tomogram. */
  async pick(prompts: readonly VoxelPoint[] | Reference, opts: PickOptions = {}): Promise<PickResult> {
    const { options, segment } = resolvePickOptions(opts);
    const timer = new StageTimer();
    const before = this.counters();
    if (!('version' in prompts)) this.checkedSegmentOptions(prompts, opts.segment ?? {});
    // A pick that will segment many proposals starts its workers now: they start and embed every
    // slice while this thread segments the prompts, builds features and matches.
    const manyProposals = options.topK === 'auto' || options.topK >= PREFILL_PROPOSALS;
    const early = manyProposals ? this.startWorkers(segment, true) : undefined;
    try {
      return await this.pickWith(prompts, opts, options, segment, timer, before, early);
    } finally {
      // Closed here when the pick failed before handing them on.
      await early?.then((w) => this.closeWorkers(w), () => {});
    }
  }

  private async pickWith(
    prompts: readonly VoxelPoint[] | Reference, opts: PickOptions, options: ResolvedPickOptions, segment: ResolvedSegmentOptions,
    timer: StageTimer, before: ReturnType<CryoSam['counters']>, early: Promise<SegmentWorkers> | undefined,
  ): Promise<PickResult> {
    const given = 'version' in prompts ? this.checkReference(prompts, options.topK) : await this.reference(prompts, { ...options, segment: opts.segment }, timer);
    // The prompted particles take part when they are in this tomogram. The template cut's first round
    // compares with the reference's self-template when it has one (saved, or merged over tomograms), else with the first prompt.
    const here = isSourceOf(given, this.contentHash) ? given.prompted : [];
    const prompted = here.filter((inst) => inst.voxels > 0);
    const features = await this.featureVolume(given.featureSliceStep);
    const nmsRadiusOf = (r: Reference) => options.nmsRadius ?? Math.max(DEFAULTS.pick.minNmsRadius, r.particle.equivalentRadius);
    const match = (nmsRadius: number, stage = 'matching') => timer.time(stage, () =>
      matchFeatures(features, given.query.vectors, { mode: options.matching, pyramid: options.pyramid, similarityThreshold: options.similarityThreshold, nmsRadius }, this.onProgress));
    const auto = options.topK === 'auto';
    const maxProposals = (r: Reference) => (auto ? autoProposalLimit(voxelCount(this.shape), r.particle.meanVoxels) : (options.topK as number));
    const proposalsOf = (m: MatchResult, r: Reference) => m.peaks.slice(0, Math.min(maxProposals(r), m.peaks.length));
    // 'auto' segments the paper's K first, and more (doubling) while the cut keeps targets to the end of those.
    const firstCount = (all: readonly Peak[]) => (auto ? Math.min(all.length, DEFAULTS.pick.autoMinProposals) : all.length);
    let nmsRadius = nmsRadiusOf(given);
    let matched = await match(nmsRadius);
    const segmentRange = (reference: Reference, proposals: readonly Peak[], taken: readonly Instance[], workers: SegmentWorkers | undefined, segmentPeak: (peak: Peak) => Promise<ParticleMask | undefined>) =>
      segmentProposals({
        store: this.store, shape: this.shape, proposals, taken, nmsRadius, segment, onProgress: this.onProgress,
        volumeVoxels: [options.volumeRange[0] * reference.particle.meanVoxels, options.volumeRange[1] * reference.particle.meanVoxels],
        stopAfterRejects: auto ? DEFAULTS.pick.autoStopAfterRejects : Infinity,
        segmentPeak, ...(workers ? { lookahead: 2 * this.parallel!.workers } : {}),
      });
    const first = await this.withWorkers(segment, firstCount(proposalsOf(matched, given)), timer, early, async (workers) => {
      // Each proposal is segmented once: the size vote's masks are the proposals' own.
      const segmentPeak = this.peakSegmenter(workers, segment);
      let reference = given, vote: ParticleSizeVote | undefined;
      // A reference with a self-template has its size settled: the template's box was sized by it.
      if (prompted.length && !given.average) {
        vote = await timer.time('particle size', async () => {
          const voters = voterPeaks(matched.peaks, prompted, nmsRadius, DEFAULTS.pick.sizeVoters);
          return voteParticleSize(prompted.map((inst) => inst.voxels), await Promise.all(voters.map(segmentPeak)));
        });
        reference = withParticleSize(given, vote.votedVoxels);
        if (nmsRadiusOf(reference) !== nmsRadius) matched = await match((nmsRadius = nmsRadiusOf(reference)), 'matching (voted size)');
      }
      const all = proposalsOf(matched, reference);
      const segmented = await timer.time('segment proposals', () => segmentRange(reference, all.slice(0, firstCount(all)), here, workers, segmentPeak));
      return { reference, vote, all, segmented };
    });
    const { reference, vote, all } = first;
    let { segmented } = first;
    let considered = firstCount(all);
    const { equivalentRadius } = reference.particle;
    const centreOf = this.densityCentres(reference);
    const wedge = auto ? this.missingWedge(options.tiltRange) : 'none';
    const measured = wedge === 'none' ? undefined : measuredRegion(wedge);
    const cutInput = (): TemplateCutInput => ({
      tomogram: this.tomogram, prompted, found: segmented.found, centreOf, equivalentRadius,
      measured, template: reference.average, onProgress: this.onProgress,
      threads: this.parallel?.workers ?? 1,
    });
    let cut = auto ? await timer.time('verify and cut', () => templateCut(cutInput())) : undefined;
    // Targets kept to the end of the proposals segmented, and more proposals left: the tomogram
    // holds more. Each round is judged by a quick extension of the cut; a full cut ends it.
    let round = segmented.found, decision = cut, extended = false;
    while (decision && !segmented.stopped && considered < all.length && targetsRunPast(round, decision.kept)) {
      const from = considered;
      considered = Math.min(all.length, 2 * considered);
      const taken = [...here, ...segmented.found];
      const more = await this.withWorkers(segment, considered - from, timer, undefined, (workers) =>
        timer.time('segment more proposals', () => segmentRange(reference, all.slice(from, considered), taken, workers, this.peakSegmenter(workers, segment))));
      round = more.found;
      extended ||= round.length > 0;
      segmented = {
        found: [...segmented.found, ...more.found], segmented: segmented.segmented + more.segmented, stopped: more.stopped,
        rejected: { empty: segmented.rejected.empty + more.rejected.empty, volume: segmented.rejected.volume + more.rejected.volume },
      };
      const previous = decision;
      decision = await timer.time('verify more', () => extendCut(previous, round, cutInput()));
    }
    if (extended) cut = await timer.time('verify and cut again', () => templateCut(cutInput()));
    const final = cut;
    const split = final && await timer.time('split look-alikes', () => splitLookAlikes({
      tomogram: this.tomogram, prompted, kept: final.kept, centreOf, rotation: final.rotation, correlation: final.correlation, equivalentRadius,
      measured, onProgress: this.onProgress, threads: this.parallel?.workers ?? 1,
    }));
    const kept = [...here, ...(split?.kept ?? segmented.found)].filter((inst) => inst.voxels > 0);
    // Each particle's mask drawn from the average its alignment found (average-masks.ts), in the same order.
    const average = cut?.average, rotation = cut?.rotation, correlation = cut?.correlation;
    const drawn = average && rotation
      ? await timer.time('masks from average', () => masksFromAverage({ instances: kept, average, rotation, centreOf, polarity: reference.particle.polarity, equivalentRadius, shape: this.shape }))
      : undefined;
    const instances = drawn ?? kept;
    // A pick is written at its segmented instance's density centre, with its correlation, and the volume of its final mask.
    const picks = toPicks(instances, (_, i) => centreOf(kept[i]), correlation && ((_, i) => correlation.get(kept[i])), this.tomogram.voxelSize);
    const refined: Reference = cut?.average ? { ...reference, average: { ...cut.average, voxelSizeA: cut.average.stride * reference.voxelSizeA, missingWedge: wedge } } : reference;
    const report = pickReport({
      stages: timer.stages, counters: this.counters(), before, cache: this.cache?.stats, proposals: considered, segmented: segmented.segmented, instances: instances.length, picks: picks.length,
      rejected: { ...segmented.rejected, duplicate: cut?.rejected.duplicate ?? 0, cut: cut?.rejected.cut ?? 0, lookAlike: split?.lookAlikes ?? 0 },
      options, nmsRadius, match: matched, featureBytes: features.bytes, missingWedge: wedge, particleSize: vote, masks: drawn ? 'average' : 'segmented',
    });
    return { picks, instances, reference: refined, report };
  }

  /** Segments a proposal on the workers, else on this thread; a proposal asked for twice is segmented once. */
  private peakSegmenter(workers: SegmentWorkers | undefined, segment: ResolvedSegmentOptions): (peak: Peak) => Promise<ParticleMask | undefined> {
    const masks = new Map<string, Promise<ParticleMask | undefined>>();
    return (peak) => {
      const key = `${peak.x},${peak.y},${peak.z}`;
      let job = masks.get(key);
      if (!job) masks.set(key, (job = workers ? workers.segment(peak) : segmentFromPrompt(this.store, this.shape, peak, segment)));
      return job;
    };
  }

  /** The tilt range estimated from the tomogram's power spectrum, once per CryoSam (undefined: no wedge seen). */
  tiltRange(): EstimatedTiltRange | undefined {
    if (this.estimatedTiltRange === undefined) this.estimatedTiltRange = estimateTiltRange(this.tomogram) ?? null;
    return this.estimatedTiltRange ?? undefined;
  }

  /** Slices embedded by worker threads so far. */
  private workerEmbeddings = 0;

  /**
   * Segmenting workers on the tomogram in shared memory; with `prefill`, they first embed every
   * slice (a pick of hundreds of proposals visits nearly all).
   */
  private startWorkers(segment: ResolvedSegmentOptions, prefill: boolean): Promise<SegmentWorkers> | undefined {
    const p = this.parallel;
    if (!p) return undefined;
    const starting = SegmentWorkers.start(p.workers, {
      tomogram: { buffer: this.tomogram.data.buffer as SharedArrayBuffer, shape: this.shape, voxelSize: this.tomogram.voxelSize },
      engine: p.engine, volumeStats: p.volumeStats, segment, cacheDir: p.cacheDir, cacheLimitBytes: p.cacheLimitBytes, keyPrefix: this.embeddingKey(),
      sharedEmbeddings: this.sharedEmbeddings?.layout,
    }, prefill);
    starting.catch(() => {}); // awaited by the pick, which reports the failure
    return starting;
  }

  /**
   * Runs `work` with segmenting workers when this CryoSam has them and there are proposals to
   * share: those started early (`early`), else started now. The stage 'start workers' is the time
   * the pick waits for them.
   */
  private async withWorkers<T>(
    segment: ResolvedSegmentOptions, proposals: number, timer: StageTimer, early: Promise<SegmentWorkers> | undefined,
    work: (workers: SegmentWorkers | undefined) => Promise<T>,
  ): Promise<T> {
    if (!this.parallel || proposals < 2) {
      await early?.then((w) => this.closeWorkers(w), () => {});
      return work(undefined);
    }
    const workers = await timer.time('start workers', () => early ?? this.startWorkers(segment, proposals >= PREFILL_PROPOSALS)!);
    try {
      return await work(workers);
    } finally {
      await this.closeWorkers(workers);
    }
  }

  /** Stops workers (again: harmless), counting the slices they embedded once. */
  private async closeWorkers(workers: SegmentWorkers): Promise<void> {
    if (workers.closed) return;
    this.workerEmbeddings += workers.embedded;
    await workers.close();
  }

  async dispose(): Promise<void> {
    this.featureVolumes.clear();
    await this.disposeEngines?.();
  }

  private checkedSegmentOptions(prompts: readonly VoxelPoint[], opts: SegmentOptions): ResolvedSegmentOptions {
    prompts.forEach((p) => checkPromptInside(p, this.shape));
    const segment = resolveSegmentOptions(opts);
    segment.negatives.forEach((n) => checkPromptInside(n, this.shape, 'negative prompt'));
    return segment;
  }

  /**
   * A reference can be picked with here when it was made with these engines, at this voxel size, and
   * (for the template cut in another tomogram) carries its self-template.
   */
  private checkReference(reference: Reference, topK: number | 'auto'): Reference {
    if (reference.version !== REFERENCE_VERSION) throw new CryosamError(`reference version ${reference.version} is not ${REFERENCE_VERSION}`);
    const ours = this.engineIdentities();
    if (!sameEngines(reference.engines, ours)) {
      throw new CryosamError(`the reference was made with other engines (${reference.engines.segmenter.name}+${reference.engines.features.name}; this run uses ${ours.segmenter.name}+${ours.features.name})`);
    }
    if (!sameVoxelSize(meanVoxelSize(this.tomogram.voxelSize), reference.voxelSizeA)) {
      throw new CryosamError(`the reference was made at ${reference.voxelSizeA} Å per voxel and this tomogram is at ${meanVoxelSize(this.tomogram.voxelSize)} Å: rescale the tomogram to the reference's voxel size first`);
    }
    const here = isSourceOf(reference, this.contentHash) && reference.prompted.length > 0;
    if (!here && topK === 'auto' && !reference.average) {
      throw new CryosamError('the reference has no self-template average (a pick makes it), which the automatic count needs in another tomogram; give --top-k N');
    }
    return reference;
  }

  /** The missing wedge the template cut leaves out, as asked (estimated once per CryoSam). */
  private missingWedge(tiltRange: ResolvedPickOptions['tiltRange']): MissingWedgeReport {
    if (tiltRange === 'none') return 'none';
    if (tiltRange !== 'auto') return { beam: 'z', ...tiltRange, source: 'given' };
    const estimated = this.tiltRange();
    return estimated ? { ...estimated, source: 'estimated' } : 'none';
  }

  /** Each instance's density centre, computed once: where the template cut compares it and its pick is written. */
  private densityCentres(reference: Reference): (inst: Instance) => VoxelPoint {
    const geometry = centreGeometry(reference.particle.equivalentRadius);
    const centres = new Map<Instance, VoxelPoint>();
    return (inst) => {
      let c = centres.get(inst);
      if (!c) centres.set(inst, (c = densityCentre(this.tomogram, inst.centroid, geometry, reference.particle.polarity)));
      return c;
    };
  }

  private counters() {
    return { encoderPasses: { ...this.featureCounters.encoderPasses }, featureCacheHits: this.featureCounters.cacheHits, embedded: this.store.stats.embedded + this.workerEmbeddings, embeddingCacheHits: this.store.stats.cacheHits };
  }

  /** The feature volume at a slice step: built (or read from the cache) once per CryoSam. */
  private async featureVolume(step: number): Promise<FeatureVolume> {
    const have = this.featureVolumes.get(step);
    if (have) return have;
    const built = await FeatureVolume.build(this.tomogram, this.features, step, this.cache, cacheKey(this.contentHash, identityKey(this.features.identity())), this.onProgress);
    for (const axis of ['z', 'y', 'x'] as const) this.featureCounters.encoderPasses[axis] += built.stats.encoderPasses[axis] ?? 0;
    this.featureCounters.cacheHits += built.stats.cacheHits;
    this.featureVolumes.set(step, built.volume);
    return built.volume;
  }
}
