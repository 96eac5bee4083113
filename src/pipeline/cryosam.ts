/**
 * CryoSam: the user API of the pipeline, like SAM's predictor. Create it once per tomogram, then
 * segment particles from point prompts or pick all particles like the prompted ones. Slice
 * embeddings and feature grids are computed lazily, once per tomogram, and cached on disk.
 *
 * CryoSam takes ownership of the tomogram it is given: its Float32 data is normalised in place
 * (median 0, robust σ 1) so that no second copy of a large tomogram is needed.
 */
import { peakRssMiB } from '../cli/report.js';
import type { EngineOptions } from '../engines/registry.js';
import type { FeatureExtractor, PromptableSegmenter } from '../engines/types.js';
import { CryosamError } from '../errors.js';
import { cacheDir as defaultCacheDir } from '../paths.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import { intensityStats } from '../engines/onnx/intensity.js';
import { normalizeRobust } from '../volume/normalize.js';
import type { Axis, Shape3, Volume } from '../volume/volume.js';
import { estimateTiltRange, measuredRegion, type EstimatedTiltRange } from '../volume/missing-wedge.js';
import { autoCut, combinedEvidence, DEFAULT_AUTO_CUT, fisherZ } from './auto-cut.js';
import { cacheKey, DiskCache, identityKey, tomogramHash, DEFAULT_CACHE_LIMIT_BYTES } from './cache.js';
import { EmbeddingStore } from './embedding-store.js';
import { DEFAULT_FEATURE_SLICE_STEP, FeatureVolume, type FeatureBuildStats } from './feature-volume.js';
import { equivalentRadius, fromBoxMask, instanceContains, pointInstance } from './instance.js';
import { DEFAULT_PYRAMID, DEFAULT_SIMILARITY_THRESHOLD, matchFeatures, scorePoints } from './matching.js';
import { buildQueries } from './query.js';
import { contrastPolarity, densityCentre, meanSignature, repeatedParticles, shapeSignature, signatureCorrelation, signatureGeometry } from './verify.js';
import { alignToSelfTemplate } from './self-template.js';
import { resolveSegmentOptions, segmentFromPrompt, type ResolvedSegmentOptions } from './self-prompting.js';
import { isTopK, TOP_K_RULE, type InstanceMask, type PickOptions, type PickReport, type PickResult, type SegmentOptions, type StageReport, type VoxelPoint } from './types.js';

export interface CryoSamOptions {
  engine?: EngineOptions;
  /** Engines built by the caller (e.g. custom implementations); they are not disposed by CryoSam. */
  engines?: { segmenter: PromptableSegmenter; features: FeatureExtractor };
  /** Folder of the embedding/feature cache; false disables it. Default cacheDir() (src/paths.ts). */
  cacheDir?: string | false;
  cacheLimitBytes?: number;
  onProgress?: ProgressCallback;
}

export const DEFAULT_TOP_K: number | 'auto' = 'auto';
/**
 * 'auto' never keeps more than the paper's reference K: the cut matches the particle count on small
 * synthetic volumes, but kept 1839 of 12229 peaks on a 200×512×512 volume with 400 particles.
 */
export const AUTO_TOP_K_LIMIT = 512;
/**
 * Defaults of the verification of segmented proposals (src/pipeline/verify.ts), chosen on the
 * simulator presets easy, medium and realistic (several seeds and prompts): a volume within
 * 0.5–2× the prompts' drops fragments and smaller proteins without losing targets (narrower ranges
 * lost targets whenever the prompt's own mask was off in size); the radial-profile check is off
 * because a single prompt's profile is too noisy a reference: at any threshold it cost more
 * recall than it gained precision.
 */
export const DEFAULT_VOLUME_RANGE: [number, number] = [0.5, 2];
export const DEFAULT_VERIFY_THRESHOLD = -1;
/** With topK 'auto', segmenting stops after this many proposals in a row were rejected. */
export const AUTO_STOP_AFTER_REJECTS = 48;
/** Smallest NMS radius in voxels, whatever the prompted masks' size. */
const MIN_NMS_RADIUS = 2;

function distance(a: VoxelPoint, b: VoxelPoint): number {
  return Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
}

/** Throws unless p lies inside the tomogram (voxel centres at integers, so [-0.5, n - 0.5)). */
export function checkPromptInside(p: VoxelPoint, shape: Shape3, what = 'prompt'): void {
  const [nz, ny, nx] = shape;
  const inside = (v: number, n: number) => Number.isFinite(v) && v >= -0.5 && v < n - 0.5;
  if (!inside(p.x, nx) || !inside(p.y, ny) || !inside(p.z, nz)) {
    throw new CryosamError(`${what} at x=${p.x}, y=${p.y}, z=${p.z} lies outside the tomogram (x 0..${nx - 1}, y 0..${ny - 1}, z 0..${nz - 1})`);
  }
}

/**
 * Removes from `inst` the voxels already owned by earlier instances, so instances are disjoint.
 * Returns the instance with its voxel count and centroid updated (same object when nothing overlapped).
 */
function withoutOverlaps(inst: InstanceMask, earlier: InstanceMask[]): InstanceMask {
  const b = inst.bbox;
  const by = b.y1 - b.y0, bx = b.x1 - b.x0;
  let changed = false;
  for (const o of earlier) {
    const z0 = Math.max(b.z0, o.bbox.z0), z1 = Math.min(b.z1, o.bbox.z1);
    const y0 = Math.max(b.y0, o.bbox.y0), y1 = Math.min(b.y1, o.bbox.y1);
    const x0 = Math.max(b.x0, o.bbox.x0), x1 = Math.min(b.x1, o.bbox.x1);
    if (z0 >= z1 || y0 >= y1 || x0 >= x1) continue;
    const oy = o.bbox.y1 - o.bbox.y0, ox = o.bbox.x1 - o.bbox.x0;
    for (let z = z0; z < z1; z++)
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) {
          const i = ((z - b.z0) * by + (y - b.y0)) * bx + (x - b.x0);
          if (inst.mask[i] && o.mask[((z - o.bbox.z0) * oy + (y - o.bbox.y0)) * ox + (x - o.bbox.x0)]) {
            inst.mask[i] = 0;
            changed = true;
          }
        }
  }
  return changed ? fromBoxMask(inst.bbox, inst.mask, inst.id, inst.score, inst.prompted) : inst;
}

export class CryoSam {
  private readonly store: EmbeddingStore;
  private readonly featureVolumes = new Map<number, FeatureVolume>();
  private estimatedTiltRange: EstimatedTiltRange | null | undefined;

  private constructor(
    readonly tomogram: Volume,
    private readonly segmenter: PromptableSegmenter,
    private readonly features: FeatureExtractor,
    private readonly disposeEngines: (() => Promise<void>) | undefined,
    private readonly cache: DiskCache | undefined,
    /** sha256 of the normalised voxel data. */
    readonly contentHash: string,
    private readonly onProgress: ProgressCallback,
  ) {
    this.store = new EmbeddingStore(tomogram, segmenter, cache, cacheKey(contentHash, identityKey(segmenter.identity())));
  }

  static async create(tomogram: Volume, opts: CryoSamOptions = {}): Promise<CryoSam> {
    if (!(tomogram.data instanceof Float32Array)) throw new CryosamError('CryoSam needs a Float32 tomogram');
    const [nz, ny, nx] = tomogram.shape;
    if (nz < 1 || ny < 1 || nx < 1 || tomogram.data.length !== nz * ny * nx) {
      throw new CryosamError(`tomogram shape ${nz}×${ny}×${nx} does not match its ${tomogram.data.length} voxels`);
    }
    normalizeRobust(tomogram, {}, true);
    const hash = tomogramHash(tomogram.data);
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
    if (segmenter.setVolumeStats || features.setVolumeStats) {
      // One intensity scaling for every slice, as the CryoSAM reference normalises DINOv2 input by
      // the tomogram's mean/std: a particle keeps its grey level on every slice it crosses.
      const stats = intensityStats(tomogram.data);
      segmenter.setVolumeStats?.(stats);
      features.setVolumeStats?.(stats);
    }
    const cache = opts.cacheDir === false ? undefined : new DiskCache(opts.cacheDir ?? defaultCacheDir(), opts.cacheLimitBytes ?? DEFAULT_CACHE_LIMIT_BYTES);
    return new CryoSam(tomogram, segmenter, features, dispose, cache, hash, opts.onProgress ?? noProgress);
  }

  get shape(): Shape3 {
    return this.tomogram.shape;
  }

  /** Engine identities, for run reports. */
  engineIdentities(): Record<string, unknown> {
    return { segmenter: this.segmenter.identity(), features: this.features.identity() };
  }

  /**
   * Segments the particle under one point prompt in 3D (cross-plane self-prompting). When no plane
   * yields a mask, the instance is the prompt's voxel alone, so a user prompt always has an instance.
   */
  async segment(prompt: VoxelPoint, opts: SegmentOptions = {}, id = 1): Promise<InstanceMask> {
    checkPromptInside(prompt, this.shape);
    for (const n of opts.negatives ?? []) checkPromptInside(n, this.shape, 'negative prompt');
    return this.segmentPrompt(prompt, resolveSegmentOptions(opts), id);
  }

  private async segmentPrompt(prompt: VoxelPoint, seg: ResolvedSegmentOptions, id: number): Promise<InstanceMask> {
    return (await segmentFromPrompt(this.store, this.shape, prompt, seg, id, 1, true)) ?? pointInstance(prompt, this.shape, id, 1, true);
  }

  /** Picks (and segments) every particle like the prompted ones. */
  async pick(prompts: VoxelPoint[], opts: PickOptions = {}): Promise<PickResult> {
    if (prompts.length === 0) throw new CryosamError('pick needs at least one prompt');
    prompts.forEach((p) => checkPromptInside(p, this.shape));
    const seg = resolveSegmentOptions(opts.segment);
    seg.negatives.forEach((n) => checkPromptInside(n, this.shape, 'negative prompt'));
    const resolved = {
      topK: opts.topK ?? DEFAULT_TOP_K,
      autoCut: opts.autoCut ?? DEFAULT_AUTO_CUT,
      matching: opts.matching ?? 'hierarchical',
      pyramid: opts.pyramid ?? DEFAULT_PYRAMID,
      similarityThreshold: opts.similarityThreshold ?? DEFAULT_SIMILARITY_THRESHOLD,
      query: opts.query ?? 'mean',
      featureSliceStep: opts.featureSliceStep ?? DEFAULT_FEATURE_SLICE_STEP,
      nmsRadius: opts.nmsRadius,
      volumeRange: opts.volumeRange ?? DEFAULT_VOLUME_RANGE,
      verifyThreshold: opts.verifyThreshold ?? DEFAULT_VERIFY_THRESHOLD,
      tiltRange: opts.tiltRange ?? 'auto',
      segment: { ...seg, negatives: seg.negatives.length },
    };
    if (!isTopK(resolved.topK)) throw new CryosamError(`topK must be ${TOP_K_RULE}, got ${resolved.topK}`);
    if (resolved.pyramid.length === 0 || resolved.pyramid.some((r) => !Number.isInteger(r) || r < 1)) {
      throw new CryosamError(`pyramid ratios must be positive integers, got ${resolved.pyramid.join(',')}`);
    }

    const stages: StageReport[] = [];
    const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
      const t0 = performance.now();
      const out = await fn();
      stages.push({ name, seconds: (performance.now() - t0) / 1000, peakRssMiB: Math.round(peakRssMiB()) });
      return out;
    };
    const before = { ...this.store.stats };
    const instances: InstanceMask[] = [];

    await timed('segment prompts', async () => {
      for (const [i, p] of prompts.entries()) {
        this.onProgress({ stage: 'segment prompts', done: i, total: prompts.length });
        instances.push(withoutOverlaps(await this.segmentPrompt(p, seg, i + 1), instances));
      }
      this.onProgress({ stage: 'segment prompts', done: prompts.length, total: prompts.length });
    });
    const prompted = instances.filter((inst) => inst.voxels > 0);

    const { volume: fv, stats: featureStats } = await timed('features', () => this.featureVolume(resolved.featureSliceStep));
    const queries = await timed('query', () => buildQueries(fv, prompted, resolved.query));
    const meanVoxels = prompted.reduce((s, inst) => s + inst.voxels, 0) / Math.max(1, prompted.length);
    const [minVoxels, maxVoxels] = [resolved.volumeRange[0] * meanVoxels, resolved.volumeRange[1] * meanVoxels];
    // Shape signatures about each particle's density centre: one per instance, computed when needed.
    const geometry = signatureGeometry(equivalentRadius(meanVoxels));
    const polarity = contrastPolarity(this.tomogram, prompted);
    const signatures = new Map<InstanceMask, Float64Array>();
    // Density centres: where the template cut compares particles, and where picks are reported.
    const centres = new Map<InstanceMask, VoxelPoint>();
    const centreOf = (inst: InstanceMask): VoxelPoint => {
      let c = centres.get(inst);
      if (!c) centres.set(inst, (c = densityCentre(this.tomogram, inst.centroid, geometry, polarity)));
      return c;
    };
    const signatureOf = (inst: InstanceMask): Float64Array => {
      let sig = signatures.get(inst);
      if (!sig) signatures.set(inst, (sig = shapeSignature(this.tomogram, centreOf(inst), geometry)));
      return sig;
    };
    const reference = resolved.verifyThreshold > -1 ? meanSignature(prompted.map(signatureOf)) : undefined;
    const nmsRadius = resolved.nmsRadius ?? Math.max(MIN_NMS_RADIUS, equivalentRadius(meanVoxels));
    const match = await timed('matching', () =>
      matchFeatures(fv, queries, { mode: resolved.matching, pyramid: resolved.pyramid, similarityThreshold: resolved.similarityThreshold, nmsRadius }, this.onProgress),
    );
    const scores = match.peaks.map((p) => p.score);
    const proposals = match.peaks.slice(0, Math.min(resolved.topK === 'auto' ? AUTO_TOP_K_LIMIT : resolved.topK, scores.length));

    const rejected = { empty: 0, volume: 0, shape: 0, duplicate: 0, cut: 0 };
    // The template cut compares densities over the Fourier components the tomogram measured.
    const templateCut = resolved.topK === 'auto' && resolved.autoCut === 'template';
    const tilt = !templateCut || resolved.tiltRange === 'none' ? undefined : resolved.tiltRange === 'auto' ? this.tiltRange() : resolved.tiltRange;
    const missingWedge = tilt ? { ...tilt, source: resolved.tiltRange === 'auto' ? 'estimated' : 'given' } : 'none';
    await timed('segment proposals', async () => {
      let rejectsInARow = 0;
      for (const [i, peak] of proposals.entries()) {
        if (i % 8 === 0) this.onProgress({ stage: 'segmenting', done: i, total: proposals.length });
        if (resolved.topK === 'auto' && rejectsInARow >= AUTO_STOP_AFTER_REJECTS) break;
        // A proposal inside, or within one particle radius of, a found particle is that particle again.
        if (instances.some((inst) => instanceContains(inst, peak) || distance(inst.centroid, peak) < nmsRadius)) continue;
        const found = await segmentFromPrompt(this.store, this.shape, peak, seg, instances.length + 1, peak.score, false);
        const inst = found && withoutOverlaps(found, instances);
        // A proposal the segmenter finds no particle at, or that is not the same kind of particle, is not a pick.
        let verdict: 'empty' | 'volume' | 'shape' | undefined;
        if (!inst || inst.voxels === 0) verdict = 'empty';
        else if (inst.voxels < minVoxels || inst.voxels > maxVoxels) verdict = 'volume';
        else if (reference) {
          inst.verification = signatureCorrelation(signatureOf(inst), reference);
          if (inst.verification < resolved.verifyThreshold) verdict = 'shape';
        }
        if (verdict || !inst) {
          rejected[verdict ?? 'empty']++;
          rejectsInARow++;
          continue;
        }
        rejectsInARow = 0;
        instances.push(inst);
      }
      this.onProgress({ stage: 'segmenting', done: proposals.length, total: proposals.length });
    });

    if (resolved.topK === 'auto') {
      await timed('verify and cut', () => {
        // Cut the verified proposals; prompted particles always stay.
        const found = instances.filter((inst) => !inst.prompted).sort((a, b) => b.score - a.score);
        let evidence = found.map((inst) => inst.score);
        if (resolved.autoCut === 'template' && found.length > 0) {
          const all = [...prompted, ...found];
          const { scores: ncc } = alignToSelfTemplate(this.tomogram, all.map(centreOf), prompted.length, equivalentRadius(meanVoxels), { measured: tilt && measuredRegion(tilt) }, this.onProgress);
          all.forEach((inst, i) => (inst.verification = ncc[i]));
          evidence = found.map((inst) => fisherZ(inst.verification ?? -1));
        } else if (resolved.autoCut === 'shape' && found.length > 0) {
          // The target's signature: the prompts' and the better half of the found particles' (by
          // similarity, mostly targets), so that one noisy prompt does not define the shape alone.
          const target = meanSignature([...prompted, ...found.slice(0, Math.ceil(found.length / 2))].map(signatureOf));
          for (const inst of [...prompted, ...found]) inst.verification = signatureCorrelation(signatureOf(inst), target);
          evidence = combinedEvidence(evidence, found.map((inst) => inst.verification ?? -1));
        }
        const order = found.map((inst, i) => ({ inst, e: evidence[i] })).sort((a, b) => b.e - a.e);
        // One particle segmented twice: keep its better-ranked mask.
        const duplicates = repeatedParticles(order.map((o) => o.inst), centreOf, equivalentRadius(meanVoxels), prompted.map(centreOf));
        const unique = order.filter((o) => !duplicates.has(o.inst));
        const promptScores = scorePoints(fv, queries, match.grid, prompted.map((inst) => inst.centroid));
        const cut = new Set(unique.slice(autoCut(unique.map((o) => o.e), promptScores, resolved.autoCut)).map((o) => o.inst));
        rejected.duplicate = duplicates.size;
        rejected.cut = cut.size;
        instances.splice(0, instances.length, ...instances.filter((inst) => !cut.has(inst) && !duplicates.has(inst)));
      });
    }
    const kept = instances.filter((inst) => inst.voxels > 0);
    const vs = this.tomogram.voxelSize;
    const voxelNm3 = (vs.x * vs.y * vs.z) / 1000;
    const picks = kept.map((inst) => ({
      ...centreOf(inst),
      score: templateCut ? (inst.verification ?? inst.score) : inst.score,
      similarity: inst.score,
      verification: inst.verification,
      instanceId: inst.id,
      voxels: inst.voxels,
      volumeNm3: inst.voxels * voxelNm3,
    }));
    const report: PickReport = {
      stages,
      encoderPasses: featureStats.encoderPasses,
      segmenterEmbeddings: this.store.stats.embedded - before.embedded,
      proposals: proposals.length,
      instances: kept.length,
      picks: picks.length,
      cacheHits: { features: featureStats.cacheHits, embeddings: this.store.stats.cacheHits - before.cacheHits },
      ...(this.cache ? { cache: { ...this.cache.stats } } : {}),
      rejected,
      options: { ...resolved, nmsRadius, peaks: match.peaks.length, levels: match.levels, featureBytes: fv.bytes, missingWedge },
    };
    return { picks, instances: kept, report };
  }

  /** The tilt range estimated from the tomogram's power spectrum, once per CryoSam (undefined: no wedge seen). */
  tiltRange(): EstimatedTiltRange | undefined {
    if (this.estimatedTiltRange === undefined) this.estimatedTiltRange = estimateTiltRange(this.tomogram) ?? null;
    return this.estimatedTiltRange ?? undefined;
  }

  /** The feature volume at a slice step: built (or read from the cache) once per CryoSam. */
  private async featureVolume(step: number): Promise<{ volume: FeatureVolume; stats: FeatureBuildStats }> {
    const have = this.featureVolumes.get(step);
    if (have) return { volume: have, stats: { encoderPasses: { z: 0, y: 0, x: 0 } as Record<Axis, number>, cacheHits: 0 } };
    const built = await FeatureVolume.build(this.tomogram, this.features, step, this.cache, cacheKey(this.contentHash, identityKey(this.features.identity())), this.onProgress);
    this.featureVolumes.set(step, built.volume);
    return built;
  }

  async dispose(): Promise<void> {
    this.featureVolumes.clear();
    await this.disposeEngines?.();
  }
}
