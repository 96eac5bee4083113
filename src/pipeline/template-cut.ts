/**
 * Stage 5 of a pick (added by cryosam to the paper's method): how many of the segmented proposals
 * are the prompted particle, without an oracle count. Feature similarity ranks same-size look-alikes
 * (mitoribosome, TRiC, 26S proteasome) among the targets; each particle's aligned *density* tells
 * them apart. Every particle is aligned to a self-template averaged from the prompts and the best
 * matches (src/pipeline/self-template.ts, missing wedge left out), and the correlations (Fisher z)
 * are cut at their Otsu threshold. One particle segmented twice (density centres within an
 * equivalent radius) is kept once, with its better-correlating mask. Prompted particles are never cut.
 * How the rule was chosen, and the rules measured against it: docs/defaults.md.
 */
import type { ProgressCallback } from '../progress.js';
import type { TransferFunction } from '../volume/fourier.js';
import type { Volume } from '../volume/volume.js';
import { repeatedParticles } from './particle.js';
import { alignToSelfTemplate, type SelfTemplateInput, type SelfTemplateResult } from './self-template.js';
import type { Matrix3 } from './rotations.js';
import type { Instance, VoxelPoint } from './types.js';

/** With fewer found particles than this, Otsu's split is unreliable: all are kept. */
export const MIN_CUT_INSTANCES = 16;
/**
 * Two Otsu classes of template correlations whose means (Fisher z) are this close are one
 * population, all matches (e.g. a tomogram of one kind of particle): every instance is kept. On
 * the presets' mixtures of targets and look-alikes the lower class's mean was 0.28–0.65 of the
 * upper's (medium, crowded and realistic seeds 1–3, one prompt, 5 draws each).
 */
const SAME_POPULATION_RATIO = 0.8;

/** Fisher's z = atanh(r) of a correlation: spreads correlations near ±1, where the best matches crowd. */
export function fisherZ(r: number): number {
  return Math.atanh(Math.max(-0.999999, Math.min(0.999999, r)));
}

/** Otsu threshold over the exact sorted values (no histogram: the lists are short). */
export function otsuThreshold(sorted: readonly number[]): number {
  const n = sorted.length;
  const asc = [...sorted].sort((a, b) => a - b);
  const total = asc.reduce((s, v) => s + v, 0);
  let best = -1, thr = asc[0];
  let sumLow = 0;
  for (let i = 0; i < n - 1; i++) {
    sumLow += asc[i];
    if (asc[i] === asc[i + 1]) continue;
    const w0 = (i + 1) / n, w1 = 1 - w0;
    const m0 = sumLow / (i + 1), m1 = (total - sumLow) / (n - i - 1);
    const between = w0 * w1 * (m0 - m1) ** 2;
    if (between > best) {
      best = between;
      thr = (asc[i] + asc[i + 1]) / 2;
    }
  }
  return thr;
}

/** How many of the scores (Fisher z of template correlations, descending) to keep. */
export function cutCount(sorted: readonly number[]): number {
  if (sorted.length < Math.max(3, MIN_CUT_INSTANCES)) return sorted.length;
  const threshold = otsuThreshold(sorted);
  let k = 0;
  while (k < sorted.length && sorted[k] >= threshold) k++;
  const mean = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
  const upper = mean(sorted.slice(0, k)), lower = mean(sorted.slice(k));
  return upper > 0 && lower >= SAME_POPULATION_RATIO * upper ? sorted.length : k;
}

/** The proposals found last (this fraction of a round's, at least MIN_CUT_INSTANCES) tell whether targets ran out. */
const TAIL_FRACTION = 0.25;
/** Targets have not run out when the cut keeps at least this fraction of the proposals found last. */
const TAIL_KEPT = 0.5;

/**
 * Whether the cut kept targets to the end of the proposals found in the latest round of
 * segmenting (`round`, in the order found: best similarity first): then the proposals segmented
 * stopped short of the tomogram's targets, and an automatic count segments more. Where the targets
 * ran out, the last proposals are look-alikes and fragments the cut drops (on the realistic preset
 * it kept fewer than TAIL_KEPT of them).
 */
export function targetsRunPast(round: readonly Instance[], kept: readonly Instance[]): boolean {
  const tail = Math.max(MIN_CUT_INSTANCES, Math.ceil(TAIL_FRACTION * round.length));
  if (round.length < tail) return false;
  const keptSet = new Set(kept);
  return round.slice(round.length - tail).filter((inst) => keptSet.has(inst)).length >= TAIL_KEPT * tail;
}

export interface TemplateCutInput {
  tomogram: Volume;
  /** The prompted particles that have a mask: they seed the self-template and are never cut. */
  prompted: readonly Instance[];
  /** The segmented proposals that passed the volume rule, in the order found. */
  found: readonly Instance[];
  /** A particle's density centre (src/pipeline/particle.ts), where it is compared. */
  centreOf: (inst: Instance) => VoxelPoint;
  /** Equivalent-sphere radius of the reference particle, in voxels. */
  equivalentRadius: number;
  /** The Fourier components the tomogram measured; undefined: all. */
  measured: TransferFunction | undefined;
  /** A self-template from a saved reference: needed when no prompted particle is in this tomogram. */
  template?: SelfTemplateInput['template'];
  onProgress: ProgressCallback;
  /** Threads the alignment may use (src/pipeline/self-template.ts alignmentWorkers); default 1: this thread. */
  threads?: number;
}

export interface TemplateCutResult {
  /** The found particles kept, in the order found. */
  kept: Instance[];
  /** Template correlation (−1..1) of every compared particle, prompts included. */
  correlation: Map<Instance, number>;
  /** Each compared particle's rotation into the self-template's frame (self-template.ts). */
  rotation: Map<Instance, Matrix3>;
  /** Found particles dropped: a particle found twice, or below the cut. */
  rejected: { duplicate: number; cut: number };
  /** The self-template after the last round (absent when nothing was compared). */
  average?: SelfTemplateResult['average'];
}

export async function templateCut(input: TemplateCutInput): Promise<TemplateCutResult> {
  const { prompted, centreOf, equivalentRadius } = input;
  // Best similarity first: the order the self-template rounds rank candidates from.
  const found = [...input.found].sort((a, b) => b.similarity - a.similarity);
  const correlation = new Map<Instance, number>();
  const rotation = new Map<Instance, Matrix3>();
  let average: SelfTemplateResult['average'];
  if (found.length > 0) {
    const aligned = await alignToSelfTemplate(
      { tomogram: input.tomogram, prompts: prompted.map(centreOf), candidates: found.map(centreOf), equivalentRadius, measured: input.measured, template: input.template },
      {},
      input.onProgress,
      input.threads ?? 1,
    );
    prompted.forEach((inst, i) => (correlation.set(inst, aligned.promptScores[i]), rotation.set(inst, aligned.rotations[i])));
    found.forEach((inst, i) => (correlation.set(inst, aligned.candidateScores[i]), rotation.set(inst, aligned.rotations[prompted.length + i])));
    average = aligned.average;
  }
  return { ...cutAt(input, correlation), correlation, rotation, ...(average ? { average } : {}) };
}

/**
 * A cut extended to the particles found after it (`added`, also in `input.found`), for deciding
 * whether to segment more, at a quarter of a full cut's cost: each added particle is aligned once
 * to the cut's self-template (no refinement rounds), and all the correlations are cut again. The
 * pick's final cut is a full templateCut.
 */
export async function extendCut(previous: TemplateCutResult, added: readonly Instance[], input: TemplateCutInput): Promise<TemplateCutResult> {
  if (!previous.average || added.length === 0) return previous;
  const aligned = await alignToSelfTemplate(
    { tomogram: input.tomogram, prompts: [], candidates: added.map(input.centreOf), equivalentRadius: input.equivalentRadius, measured: input.measured, template: previous.average },
    { rounds: 1 },
    input.onProgress,
    input.threads ?? 1,
  );
  const correlation = new Map(previous.correlation), rotation = new Map(previous.rotation);
  added.forEach((inst, i) => (correlation.set(inst, aligned.candidateScores[i]), rotation.set(inst, aligned.rotations[i])));
  return { ...cutAt(input, correlation), correlation, rotation, average: previous.average };
}

/** The found particles kept by their correlations: a particle found twice once, then Otsu's cut (cutCount). */
function cutAt(input: TemplateCutInput, correlation: ReadonlyMap<Instance, number>): Pick<TemplateCutResult, 'kept' | 'rejected'> {
  const { prompted, centreOf, equivalentRadius } = input;
  // Best similarity first, then by correlation: ties keep the similarity order.
  const bySimilarity = [...input.found].sort((a, b) => b.similarity - a.similarity);
  const order = bySimilarity.map((inst) => ({ inst, z: fisherZ(correlation.get(inst) ?? -1) })).sort((a, b) => b.z - a.z);
  const duplicates = repeatedParticles(order.map((o) => o.inst), centreOf, equivalentRadius, prompted.map(centreOf));
  const unique = order.filter((o) => !duplicates.has(o.inst));
  const cut = new Set(unique.slice(cutCount(unique.map((o) => o.z))).map((o) => o.inst));
  const kept = input.found.filter((inst) => !cut.has(inst) && !duplicates.has(inst));
  return { kept, rejected: { duplicate: duplicates.size, cut: cut.size } };
}
