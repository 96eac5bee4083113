/**
 * The CryoSAM paper's evaluation protocol, one function per experiment: annotation ratio (Table 1),
 * feature extractor, hierarchical vs naive matching, and the number of proposals K.
 *
 * Prompts are ground-truth centres of the target class drawn at random (seeded). As in the paper,
 * scoring excludes nothing: the prompted particles, which the pipeline returns as instances too,
 * count as true positives like every other pick. Means and standard deviations are over seeds
 * (sample standard deviation; 0 for a single seed).
 */
import { CryosamError, NoStructureError } from '../errors.js';
import type { EngineOptions } from '../engines/registry.js';
import type { Pick } from '../io/coords/pick.js';
import { CryoSam } from '../pipeline/cryosam.js';
import type { ParticleMask, PickOptions, PickResult, QueryMode, VoxelPoint } from '../pipeline/types.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import type { Shape3, Volume } from '../volume/volume.js';
import { Rng } from './simulate/rng.js';
import { scorePicks, type PickScore } from './score.js';

/** One tomogram and the ground truth of the class to pick. */
export interface EvalTarget {
  /** CryoSam normalises its tomogram in place: pass data you do not need unchanged. */
  tomogram: Volume;
  /** Particle centres of the target class only, in voxels. */
  truth: Pick[];
  /** Match distance in voxels (the particle radius). */
  radiusVoxels: number;
}

export interface ProtocolOptions {
  engine?: EngineOptions;
  cacheDir?: string | false;
  /** Pipeline options for every run (experiments override the one they vary). */
  pickOptions?: PickOptions;
  /** A CryoSam already created on the target's tomogram, reused and left open (features stay cached). */
  session?: CryoSam;
  onProgress?: ProgressCallback;
}

/** 'one' = a single prompt; a number = that fraction of the target particles (at least one). */
export type AnnotationRatio = 'one' | number;
export const PAPER_RATIOS: readonly AnnotationRatio[] = ['one', 0.05, 0.1, 0.3, 0.5, 0.7];
export const DEFAULT_SEEDS: readonly number[] = [1, 2, 3];

export interface MeanSd {
  mean: number;
  sd: number;
}

export interface RunScore extends Omit<PickScore, 'meanDistance' | 'matches'> {
  seed: number;
  prompts: number;
  picks: number;
  /** Wall time of the pick call. */
  seconds: number;
  /** Time of the pipeline's matching stage. */
  matchingSeconds: number;
}

export interface RunSummary {
  precision: MeanSd;
  recall: MeanSd;
  f1: MeanSd;
  seconds: MeanSd;
  matchingSeconds: MeanSd;
  runs: RunScore[];
}

/** Number of prompts a ratio asks for, out of n particles. */
export function promptCount(ratio: AnnotationRatio, n: number): number {
  if (ratio === 'one') return Math.min(1, n);
  if (!(ratio > 0 && ratio <= 1)) throw new CryosamError(`annotation ratio must be in (0, 1], got ${ratio}`);
  return Math.min(n, Math.max(1, Math.round(ratio * n)));
}

/** Draws prompts (rounded particle centres) without replacement, reproducibly for a seed. */
export function drawPrompts(truth: readonly Pick[], ratio: AnnotationRatio, seed: number): VoxelPoint[] {
  const order = truth.map((_, i) => i);
  const rng = new Rng(seed);
  const count = promptCount(ratio, truth.length);
  // Partial Fisher–Yates: the first `count` entries become a uniform random sample.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.uniform() * (order.length - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, count).map((i) => ({
    x: Math.round(truth[i].x),
    y: Math.round(truth[i].y),
    z: Math.round(truth[i].z),
  }));
}

export function meanSd(values: readonly number[]): MeanSd {
  if (values.length === 0) return { mean: NaN, sd: NaN };
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance =
    values.length > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, sd: Math.sqrt(variance) };
}

export interface AnnotationRatioRow extends RunSummary {
  ratio: AnnotationRatio;
  prompts: number;
}

/** Table 1: precision, recall and F1 for each annotation ratio, mean ± sd over seeds. */
export async function annotationRatio(
  target: EvalTarget,
  opts: ProtocolOptions & { ratios?: readonly AnnotationRatio[]; seeds?: readonly number[] } = {},
): Promise<{ rows: AnnotationRatioRow[] }> {
  const ratios = opts.ratios ?? PAPER_RATIOS;
  const seeds = opts.seeds ?? DEFAULT_SEEDS;
  return withSession(target, opts, async (session) => {
    const rows: AnnotationRatioRow[] = [];
    for (const ratio of ratios) {
      const summary = await runSeeds(session, target, ratio, seeds, opts.pickOptions ?? {});
      rows.push({ ratio, prompts: promptCount(ratio, target.truth.length), ...summary });
      report(opts, 'annotation ratio', rows.length, ratios.length);
    }
    return { rows };
  });
}

export interface FeatureAblationRow {
  /** Engine name as given (e.g. 'classical', 'xfeat', 'dinov2'). */
  engine: string;
  /** Absent when the engine could not be created (e.g. its weights are not installed). */
  result?: RunSummary;
  skipped?: string;
}

/** The feature extractor ablation: the same prompts with each engine (one CryoSam per engine). */
export async function featureAblation(
  target: EvalTarget,
  opts: Omit<ProtocolOptions, 'engine' | 'session'> & {
    engines: readonly EngineOptions[];
    ratio?: AnnotationRatio;
    seeds?: readonly number[];
  },
): Promise<{ rows: FeatureAblationRow[] }> {
  const runEngine = async (engine: EngineOptions): Promise<FeatureAblationRow> => {
    const name = engine.engine ?? 'default';
    let session: CryoSam;
    try {
      session = await CryoSam.create(target.tomogram, { engine, cacheDir: opts.cacheDir, normalizeInPlace: true, onProgress: opts.onProgress });
    } catch (err) {
      if (!(err instanceof CryosamError)) throw err;
      return { engine: name, skipped: err.message };
    }
    try {
      return { engine: name, result: await runSeeds(session, target, opts.ratio ?? 'one', opts.seeds ?? DEFAULT_SEEDS, opts.pickOptions ?? {}) };
    } finally {
      await session.dispose();
    }
  };
  const rows: FeatureAblationRow[] = [];
  for (const engine of opts.engines) {
    rows.push(await runEngine(engine));
    report(opts, 'feature ablation', rows.length, opts.engines.length);
  }
  return { rows };
}

export interface MatchingAblationRow extends RunSummary {
  matching: 'hierarchical' | 'naive';
}

/**
 * Hierarchical (coarse-to-fine) vs naive (full-resolution) matching: F1 and time of the matching
 * stage on the same prompts. Features are built before the timed runs so neither mode pays for them.
 */
export async function matchingAblation(
  target: EvalTarget,
  opts: ProtocolOptions & { ratio?: AnnotationRatio; seeds?: readonly number[] } = {},
): Promise<{ rows: MatchingAblationRow[]; naiveOverHierarchical: number }> {
  const seeds = opts.seeds ?? DEFAULT_SEEDS;
  const ratio = opts.ratio ?? 'one';
  return withSession(target, opts, async (session) => {
    // Warm-up: builds the feature grids (one proposal is the least a pick segments).
    await session.pick(drawPrompts(target.truth, ratio, seeds[0]), { ...opts.pickOptions, topK: 1 });
    const modes = ['hierarchical', 'naive'] as const;
    const summaries = await perVariant(session, target, opts, 'matching ablation', ratio, seeds, modes, (matching) => ({ matching }));
    const rows = modes.map((matching, i) => ({ matching, ...summaries[i] }));
    return { rows, naiveOverHierarchical: rows[1].matchingSeconds.mean / rows[0].matchingSeconds.mean };
  });
}

export interface QueryAblationRow extends RunSummary {
  query: QueryMode;
}

export const QUERY_MODES: readonly QueryMode[] = ['mean', 'per-prompt', 'centre'];

/**
 * How the prompts make the query: the paper's masked average over all prompted particles, the best
 * of one query per prompt, or the features at the prompts' centres. Several prompts (default 10%),
 * since with one prompt 'mean' and 'per-prompt' are the same query.
 */
export async function queryAblation(
  target: EvalTarget,
  opts: ProtocolOptions & { ratio?: AnnotationRatio; seeds?: readonly number[] } = {},
): Promise<{ rows: QueryAblationRow[] }> {
  return withSession(target, opts, async (session) => {
    const summaries = await perVariant(session, target, opts, 'query ablation', opts.ratio ?? 0.1, opts.seeds ?? DEFAULT_SEEDS, QUERY_MODES, (query) => ({ query }));
    return { rows: QUERY_MODES.map((query, i) => ({ query, ...summaries[i] })) };
  });
}

export interface WedgeAblationRow extends RunSummary {
  tiltRange: 'auto' | 'none';
}

/**
 * The template cut's density comparison with the missing wedge left out (the tilt range read off
 * the tomogram, the default) and over all Fourier components: the same prompts, one pick each.
 */
export async function wedgeAblation(
  target: EvalTarget,
  opts: ProtocolOptions & { ratio?: AnnotationRatio; seeds?: readonly number[] } = {},
): Promise<{ rows: WedgeAblationRow[] }> {
  const ranges = ['auto', 'none'] as const;
  return withSession(target, opts, async (session) => {
    const summaries = await perVariant(session, target, opts, 'missing-wedge ablation', opts.ratio ?? 'one', opts.seeds ?? DEFAULT_SEEDS, ranges, (tiltRange) => ({ tiltRange }));
    return { rows: ranges.map((tiltRange, i) => ({ tiltRange, ...summaries[i] })) };
  });
}

export interface ProposalPoint {
  k: number;
  picks: number;
  precision: number;
  recall: number;
  f1: number;
  seconds: number;
}

/** Precision and recall as the number of proposals K grows (one pipeline run per K, same prompts). */
export async function proposalCurve(
  target: EvalTarget,
  opts: ProtocolOptions & { ks: readonly number[]; ratio?: AnnotationRatio; seed?: number },
): Promise<{ points: ProposalPoint[] }> {
  const prompts = drawPrompts(target.truth, opts.ratio ?? 'one', opts.seed ?? DEFAULT_SEEDS[0]);
  return withSession(target, opts, async (session) => {
    const points: ProposalPoint[] = [];
    for (const k of opts.ks) {
      const { result, seconds } = await timedPick(session, prompts, { ...opts.pickOptions, topK: k });
      const s = scorePicks(result.picks, target.truth, target.radiusVoxels);
      points.push({ k, picks: result.picks.length, precision: s.precision, recall: s.recall, f1: s.f1, seconds });
      report(opts, 'proposal curve', points.length, opts.ks.length);
    }
    return { points };
  });
}

async function withSession<T>(target: EvalTarget, opts: ProtocolOptions, run: (session: CryoSam) => Promise<T>): Promise<T> {
  if (opts.session) return run(opts.session);
  const session = await CryoSam.create(target.tomogram, { engine: opts.engine, cacheDir: opts.cacheDir, normalizeInPlace: true, onProgress: opts.onProgress });
  try {
    return await run(session);
  } finally {
    await session.dispose();
  }
}

/** The same prompts (per seed) once per variant of the pick options: one summary per variant, in order. */
async function perVariant<V>(
  session: CryoSam,
  target: EvalTarget,
  opts: ProtocolOptions,
  stage: string,
  ratio: AnnotationRatio,
  seeds: readonly number[],
  variants: readonly V[],
  options: (variant: V) => PickOptions,
): Promise<RunSummary[]> {
  const summaries: RunSummary[] = [];
  for (const variant of variants) {
    summaries.push(await runSeeds(session, target, ratio, seeds, { ...opts.pickOptions, ...options(variant) }));
    report(opts, stage, summaries.length, variants.length);
  }
  return summaries;
}

async function runSeeds(
  session: CryoSam,
  target: EvalTarget,
  ratio: AnnotationRatio,
  seeds: readonly number[],
  pickOptions: PickOptions,
): Promise<RunSummary> {
  if (target.truth.length === 0) throw new CryosamError('the target class has no ground-truth particles to prompt with');
  const runs: RunScore[] = [];
  for (const seed of seeds) {
    const prompts = drawPrompts(target.truth, ratio, seed);
    const { result, seconds } = await timedPick(session, prompts, pickOptions);
    const s = scorePicks(result.picks, target.truth, target.radiusVoxels);
    const matchingSeconds = result.report.stages.find((st) => st.name === 'matching')?.seconds ?? NaN;
    runs.push({
      seed,
      prompts: prompts.length,
      picks: result.picks.length,
      tp: s.tp,
      fp: s.fp,
      fn: s.fn,
      precision: s.precision,
      recall: s.recall,
      f1: s.f1,
      seconds,
      matchingSeconds,
    });
  }
  const of = (key: 'precision' | 'recall' | 'f1' | 'seconds' | 'matchingSeconds') => meanSd(runs.map((r) => r[key]));
  return {
    precision: of('precision'),
    recall: of('recall'),
    f1: of('f1'),
    seconds: of('seconds'),
    matchingSeconds: of('matchingSeconds'),
    runs,
  };
}

/** A pick as the protocol scores it; a prompt refused as "no structure found" scores as a pick of nothing. */
interface TimedPick {
  result: { picks: PickResult['picks']; instances: PickResult['instances']; report: { stages: PickResult['report']['stages'] } };
  seconds: number;
}

async function timedPick(session: CryoSam, prompts: VoxelPoint[], pickOptions: PickOptions): Promise<TimedPick> {
  const started = performance.now();
  try {
    const result = await session.pick(prompts, pickOptions);
    return { result, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    if (!(err instanceof NoStructureError)) throw err;
    return { result: { picks: [], instances: [], report: { stages: [] } }, seconds: (performance.now() - started) / 1000 };
  }
}

function report(opts: { onProgress?: ProgressCallback }, stage: string, done: number, total: number): void {
  (opts.onProgress ?? noProgress)({ stage, done, total });
}

/** A unit vector (x, y, z) drawn uniformly on the sphere. */
export function randomDirection(rng: Rng): VoxelPoint {
  const cosTheta = 2 * rng.uniform() - 1, phi = 2 * Math.PI * rng.uniform();
  const s = Math.sqrt(1 - cosTheta * cosTheta);
  return { x: s * Math.cos(phi), y: s * Math.sin(phi), z: cosTheta };
}

/** Dice of a bounding-box mask with the voxels labelled `id` in a label volume (`idVoxels` of them). */
function maskDice(mask: ParticleMask | undefined, labels: Int32Array, id: number, idVoxels: number, shape: Shape3): number {
  if (!mask || id <= 0) return 0;
  const [, ny, nx] = shape;
  const { z0, z1, y0, y1, x0, x1 } = mask.bbox;
  let inside = 0, both = 0;
  for (let z = z0, i = 0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++, i++) {
    if (!mask.mask[i]) continue;
    inside++;
    if (labels[(z * ny + y) * nx + x] === id) both++;
  }
  return (2 * both) / (inside + idVoxels);
}

/** Dice of the union of bounding-box masks (disjoint, as a pick's instances are) with the voxels whose label is in `ids` (`idsVoxels` of them). */
function semanticDice(masks: readonly ParticleMask[], labels: Int32Array, ids: ReadonlySet<number>, idsVoxels: number, shape: Shape3): number {
  const [, ny, nx] = shape;
  let inside = 0, both = 0;
  for (const m of masks) {
    const { z0, z1, y0, y1, x0, x1 } = m.bbox;
    for (let z = z0, i = 0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++, i++) {
      if (!m.mask[i]) continue;
      inside++;
      if (ids.has(labels[(z * ny + y) * nx + x])) both++;
    }
  }
  return inside + idsVoxels === 0 ? 0 : (2 * both) / (inside + idsVoxels);
}

/** Dice of the sphere of a labelled particle's volume, at its true centre, with the particle: what a mask should beat. */
function sphereDice(labels: Int32Array, id: number, idVoxels: number, centre: VoxelPoint, shape: Shape3): number {
  const [nz, ny, nx] = shape;
  const r = Math.cbrt((3 * idVoxels) / (4 * Math.PI));
  let inside = 0, both = 0;
  for (let z = Math.max(0, Math.floor(centre.z - r)); z <= Math.min(nz - 1, Math.ceil(centre.z + r)); z++) {
    for (let y = Math.max(0, Math.floor(centre.y - r)); y <= Math.min(ny - 1, Math.ceil(centre.y + r)); y++) {
      for (let x = Math.max(0, Math.floor(centre.x - r)); x <= Math.min(nx - 1, Math.ceil(centre.x + r)); x++) {
        if ((z - centre.z) ** 2 + (y - centre.y) ** 2 + (x - centre.x) ** 2 > r * r) continue;
        inside++;
        if (labels[(z * ny + y) * nx + x] === id) both++;
      }
    }
  }
  return (2 * both) / (inside + idVoxels);
}

export interface ClickRun {
  seed: number;
  /** The clicked particle's centre and the click, in voxels. */
  particle: VoxelPoint;
  click: VoxelPoint;
  precision: number;
  recall: number;
  f1: number;
  /** Dice of the clicked particle's 3D mask with its true mask. */
  promptDice: number;
  /** Dice of the pick's semantic mask (every instance) with the target class's true mask. */
  semanticDice: number;
  seconds: number;
}

export interface ClickRow {
  /** Distance of the click from the particle's centre, in particle radii. */
  fraction: number;
  f1: MeanSd;
  worstF1: number;
  precision: MeanSd;
  recall: MeanSd;
  promptDice: MeanSd;
  worstPromptDice: number;
  semanticDice: MeanSd;
  runs: ClickRun[];
}

/** The summary of the runs with clicks `fraction` radii off centre. */
export function clickRow(fraction: number, runs: ClickRun[]): ClickRow {
  return {
    fraction, runs,
    f1: meanSd(runs.map((r) => r.f1)), worstF1: Math.min(...runs.map((r) => r.f1)),
    precision: meanSd(runs.map((r) => r.precision)), recall: meanSd(runs.map((r) => r.recall)),
    promptDice: meanSd(runs.map((r) => r.promptDice)), worstPromptDice: Math.min(...runs.map((r) => r.promptDice)),
    semanticDice: meanSd(runs.map((r) => r.semanticDice)),
  };
}

/**
 * Clicks that miss the centre, as a person clicks: per seed, one target particle drawn at random
 * and one random direction; for each fraction f, one prompt f particle radii from the particle's
 * centre along that direction (the same particle and direction for every f, so the rows compare
 * like with like). F1 of the pick, and Dice of the clicked particle's mask with its true mask
 * (`instances`: the simulation's instance volume, 0 = background). `sphereDice`: a sphere of each
 * clicked particle's true volume at its true centre, the baseline a mask should beat.
 */
export async function offCentreClicks(
  target: EvalTarget & { instances: Int32Array },
  opts: ProtocolOptions & { fractions?: readonly number[]; seeds?: readonly number[] } = {},
): Promise<{ rows: ClickRow[]; sphereDice: MeanSd }> {
  const fractions = opts.fractions ?? [0, 1 / 3, 1 / 2];
  const seeds = opts.seeds ?? DEFAULT_SEEDS;
  if (target.truth.length === 0) throw new CryosamError('the target class has no ground-truth particles to click');
  const { shape } = target.tomogram;
  const [, ny, nx] = shape;
  const clicks = seeds.map((seed) => {
    const rng = new Rng(seed);
    const particle = target.truth[Math.floor(rng.uniform() * target.truth.length)];
    const id = target.instances[(Math.round(particle.z) * ny + Math.round(particle.y)) * nx + Math.round(particle.x)];
    let voxels = 0;
    for (let i = 0; i < target.instances.length; i++) if (target.instances[i] === id) voxels++;
    return { seed, particle, id, voxels, direction: randomDirection(rng) };
  });
  const sphere = clicks.map((c) => sphereDice(target.instances, c.id, c.voxels, c.particle, shape));
  const targetIds = new Set(target.truth.map((p) => target.instances[(Math.round(p.z) * ny + Math.round(p.y)) * nx + Math.round(p.x)]).filter((id) => id > 0));
  let targetVoxels = 0;
  for (const id of target.instances) if (targetIds.has(id)) targetVoxels++;
  return withSession(target, opts, async (session) => {
    const runs = new Map<number, ClickRun[]>(fractions.map((f) => [f, []]));
    for (const [k, c] of clicks.entries()) {
      for (const f of fractions) {
        const d = f * target.radiusVoxels, u = c.direction;
        const at = (v: number, n: number) => Math.min(n - 1, Math.max(0, Math.round(v)));
        const click = { x: at(c.particle.x + d * u.x, nx), y: at(c.particle.y + d * u.y, ny), z: at(c.particle.z + d * u.z, shape[0]) };
        const { result, seconds } = await timedPick(session, [click], opts.pickOptions ?? {});
        const s = scorePicks(result.picks, target.truth, target.radiusVoxels);
        const prompted = result.instances.find((inst) => inst.prompted);
        runs.get(f)!.push({
          seed: c.seed, particle: { x: c.particle.x, y: c.particle.y, z: c.particle.z }, click, precision: s.precision, recall: s.recall, f1: s.f1,
          promptDice: maskDice(prompted, target.instances, c.id, c.voxels, shape),
          semanticDice: semanticDice(result.instances, target.instances, targetIds, targetVoxels, shape), seconds,
        });
      }
      report(opts, 'off-centre clicks', k + 1, clicks.length);
    }
    return { rows: fractions.map((fraction) => clickRow(fraction, runs.get(fraction)!)), sphereDice: meanSd(sphere) };
  });
}
