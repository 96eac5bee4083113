/**
 * Stage 6 of a pick (added by cryosam to the paper's method): look-alikes that the template cut
 * kept, split off by a two-class 3D classification of the kept particles, as subtomogram averaging
 * classifies. The cut compares every particle with one self-template, and a same-size look-alike
 * (a mitoribosome among ribosomes) correlates with it as well as a noisy target does. Compared with
 * two averages, a particle's preference for one of them does not depend on its own noise: each
 * particle joins the class whose average it correlates with better (Fisher z).
 *
 * Class B starts as the kept particles that correlated least with the self-template. Every particle
 * is aligned afresh to B's first average (rotations against the targets' average say nothing about
 * B's frame), then refined against each class's average round by round, and goes to the class it
 * prefers. An average holds its own members, so any class, even one of targets only,
 * keeps them by their own share: the last rounds score each particle against averages made without
 * it (the particles dealt into folds, each scored against the averages of the other folds). What B holds
 * then is split off, when its members prefer it clearly (median margin, Fisher z): a class of
 * the same kind split by the particles' surroundings is preferred by a hair. Prompted particles
 * stay in A, and a B of more than a third of the particles is no look-alike either. Where B's seed holds too few look-alikes against
 * the targets in it, B dissolves and nothing is split off (seen on the crowded preset).
 * How the rule was chosen: docs/defaults.md, "Look-alikes split off".
 */
import type { ProgressCallback } from '../progress.js';
import type { TransferFunction } from '../volume/fourier.js';
import type { Volume } from '../volume/volume.js';
import { DEFAULTS } from './defaults.js';
import type { Matrix3 } from './rotations.js';
import { particleAligner, type Alignment, type ParticleSet } from './self-template.js';
import { fisherZ, MIN_CUT_INSTANCES } from './template-cut.js';
import type { Instance, VoxelPoint } from './types.js';

export interface LookAlikeInput {
  tomogram: Volume;
  /** The prompted particles: always targets (class A). */
  prompted: readonly Instance[];
  /** The found particles the template cut kept. */
  kept: readonly Instance[];
  /** A particle's density centre, where the cut compared it. */
  centreOf: (inst: Instance) => VoxelPoint;
  /** Each particle's rotation into the self-template's frame, and its correlation (template-cut.ts). */
  rotation: ReadonlyMap<Instance, Matrix3>;
  correlation: ReadonlyMap<Instance, number>;
  /** Equivalent-sphere radius of the reference particle, in voxels. */
  equivalentRadius: number;
  /** The Fourier components the tomogram measured; undefined: all. */
  measured: TransferFunction | undefined;
  onProgress: ProgressCallback;
  /** Threads the alignment may use (self-template.ts alignmentWorkers); default 1: this thread. */
  threads?: number;
}

export interface LookAlikeResult {
  /** The kept particles that are not look-alikes, in the order given. */
  kept: Instance[];
  /** How many were split off. */
  lookAlikes: number;
}

/** Particles 0..n-1 dealt into `folds` in turn, fold after fold: each fold a contiguous range [from, to), which worker threads refine. */
function deal<T>(items: readonly T[], folds: number): { dealt: T[]; ranges: [number, number][] } {
  const groups = Array.from({ length: folds }, (_, f) => items.filter((_, i) => i % folds === f));
  let from = 0;
  return { dealt: groups.flat(), ranges: groups.map((g) => [from, (from += g.length)]) };
}

/**
 * A class's averages without each fold in turn, from one sum per fold: fold f's reference averages
 * the class's members outside f. The coverage is the whole class's (a quarter fewer rotations
 * barely change it), computed once.
 */
function classAverages(set: ParticleSet, folds: readonly [number, number][], members: readonly number[], rotationOf: readonly Matrix3[]) {
  const sums = folds.map(([from, to]) => {
    const inFold = members.filter((i) => i >= from && i < to);
    const mean = set.average(inFold, inFold.map((i) => rotationOf[i]));
    return { sum: mean.map((v) => v * inFold.length), count: inFold.length };
  });
  const cover = members.length > 0 ? set.coverage(members.map((i) => rotationOf[i])) : undefined;
  // With one fold, the fold is scored against the whole class.
  const outside = (f: number) => (folds.length === 1 ? sums : sums.filter((_, g) => g !== f));
  return {
    /** Whether fold f has a reference: members outside it. */
    has: (f: number) => outside(f).some((s) => s.count > 0),
    reference: (f: number) => {
      const parts = outside(f), count = parts.reduce((c, s) => c + s.count, 0);
      const average = new Float32Array(sums[0].sum.length);
      for (const { sum } of parts) for (let v = 0; v < average.length; v++) average[v] += sum[v] / count;
      return set.referenceFromAverage(average, cover);
    },
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y), mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export async function splitLookAlikes(input: LookAlikeInput): Promise<LookAlikeResult> {
  const { prompted, kept } = input;
  const opts = DEFAULTS.lookAlikes;
  const seedCount = Math.floor(opts.seedFraction * kept.length);
  if (prompted.length + kept.length < MIN_CUT_INSTANCES || seedCount < 1) return { kept: [...kept], lookAlikes: 0 };
  // Dealt into the folds in turn: the kept particles come best similarity first, look-alikes mostly late.
  const { dealt: particles, ranges } = deal([...prompted, ...kept], opts.folds);
  const isPrompt = new Set(prompted);
  const aligner = await particleAligner(input.tomogram, particles.map(input.centreOf), input.equivalentRadius, input.measured, input.threads ?? 1);
  try {
    const { set } = aligner;
    const n = set.size, all = Array.from({ length: n }, (_, i) => i);
    let rotationA = particles.map((inst) => input.rotation.get(inst)!), rotationB = rotationA;
    // B seeded with the found particles that correlated least with the self-template.
    let inB = new Array<boolean>(n).fill(false);
    const correlation = (i: number) => input.correlation.get(particles[i]) ?? 0;
    const found = all.filter((i) => !isPrompt.has(particles[i]));
    for (const i of found.sort((i, j) => correlation(i) - correlation(j)).slice(0, seedCount)) inB[i] = true;
    const total = opts.rounds + opts.validationRounds;
    // Each particle's preference for B over A (Fisher z), in the last round.
    let margin: number[] = [];
    for (let round = 0; round < total && inB.some(Boolean); round++) {
      input.onProgress({ stage: 'splitting look-alikes', done: round, total });
      const folds = round >= opts.rounds ? ranges : [[0, n] as [number, number]];
      const a: Alignment = { scores: new Float64Array(n).fill(-Infinity), rotations: [...rotationA] };
      let b: Alignment = { scores: new Float64Array(n).fill(-Infinity), rotations: [...rotationB] };
      const classA = classAverages(set, folds, all.filter((i) => !inB[i]), rotationA);
      const classB = classAverages(set, folds, all.filter((i) => inB[i]), rotationB);
      for (const [f, [from, to]] of folds.entries()) {
        await aligner.refine(classA.reference(f), from, to, rotationA, a);
        // A fold with no B member to average against cannot prefer B.
        if (!classB.has(f)) continue;
        if (round === 0) b = await aligner.align(classB.reference(f));
        else await aligner.refine(classB.reference(f), from, to, rotationB, b);
      }
      rotationA = a.rotations;
      rotationB = b.rotations;
      margin = all.map((i) => fisherZ(b.scores[i]) - fisherZ(a.scores[i]));
      inB = all.map((i) => !isPrompt.has(particles[i]) && margin[i] > 0);
      // The prompts' kind is the one the cut kept most of: a B of more than maxShare of them is no look-alike.
      if (inB.filter(Boolean).length > opts.maxShare * n) inB.fill(false);
    }
    input.onProgress({ stage: 'splitting look-alikes', done: total, total });
    const members = all.filter((i) => inB[i]);
    // A class of the same kind, split by the particles' surroundings, is preferred by a hair.
    if (members.length === 0 || median(members.map((i) => margin[i])) < opts.minMargin) return { kept: [...kept], lookAlikes: 0 };
    const split = new Set(members.map((i) => particles[i]));
    return { kept: kept.filter((inst) => !split.has(inst)), lookAlikes: split.size };
  } finally {
    await aligner.close();
  }
}
