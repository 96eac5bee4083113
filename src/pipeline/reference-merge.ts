/**
 * One reference from prompts in several tomograms (a STAR file with rlnTomoName, copick picks from
 * several runs): what a user who clicked a few particles across a dataset expects to pick with.
 *
 * Two passes, one tomogram open at a time (the second in reverse order, starting with the one still open):
 * 1. each tomogram's own reference from its prompts (segmented prompts, query, size, contrast);
 *    these are merged (mergeReferences): queries weighted by the prompted voxels they pool, size
 *    and contrast weighted by the prompts;
 * 2. each tomogram is picked with the merged reference and its own prompted particles, the
 *    template cut's first round aligned to the running average of the tomograms before it, so every
 *    tomogram's average lies in one frame (and one box: the first pick settles the particle's size,
 *    src/pipeline/particle-size.ts); the averages are summed, weighted by their picks.
 * The result carries every source and one self-template averaged over the whole set.
 */
import { CryosamError } from '../errors.js';
import type { CryoSam } from './cryosam.js';
import { equivalentRadius } from './instance.js';
import { normalise } from './query.js';
import { sameEngines, sameVoxelSize, segmentedPrompts, type Reference } from './reference.js';
import type { PickOptions, VoxelPoint } from './types.js';

/** Where a reference's prompts came from when merged: `name` is how errors and reports call it. */
export interface MergeInput {
  name: string;
  reference: Reference;
}

/** The unit vector along Σ wᵢ·vᵢ. */
function weightedUnit(vectors: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const sum = new Float32Array(vectors[0].length);
  vectors.forEach((v, i) => v.forEach((x, d) => (sum[d] += weights[i] * x)));
  return normalise(sum);
}

/**
 * The references of several tomograms as one: their engines, voxel size (within 2%), feature step
 * and query mode must agree. 'mean' queries are averaged weighted by the prompted voxels behind
 * each (the paper's masked average over all prompts); other modes keep every prompt's query. The
 * particle size is the mean over all segmented prompts, the contrast the prompts' majority.
 * Self-templates are not merged here (referenceFromTomograms averages them in one frame).
 */
export function mergeReferences(inputs: readonly MergeInput[]): Reference {
  if (inputs.length === 0) throw new CryosamError('no reference to merge');
  const first = inputs[0].reference;
  for (const { name, reference: r } of inputs.slice(1)) {
    if (!sameEngines(r.engines, first.engines)) {
      throw new CryosamError(`made with other engines (${r.engines.segmenter.name}+${r.engines.features.name}) than ${inputs[0].name} (${first.engines.segmenter.name}+${first.engines.features.name})`, name);
    }
    if (!sameVoxelSize(r.voxelSizeA, first.voxelSizeA)) {
      throw new CryosamError(`voxel size ${r.voxelSizeA} Å differs from ${inputs[0].name}'s ${first.voxelSizeA} Å; a merged reference needs one voxel size (rescale the tomograms first)`, name);
    }
    if (r.featureSliceStep !== first.featureSliceStep || r.query.mode !== first.query.mode) {
      throw new CryosamError(`made with feature step ${r.featureSliceStep} and query ${r.query.mode}, ${inputs[0].name} with ${first.featureSliceStep} and ${first.query.mode}`, name);
    }
  }
  // Each reference's particle size and contrast stand for its segmented prompts.
  const prompts = inputs.map(({ reference: r }) => (r.prompted.length ? segmentedPrompts(r).length : r.sources.reduce((n, s) => n + s.prompts.length, 0)));
  const total = prompts.reduce((a, b) => a + b, 0);
  if (total === 0) throw new CryosamError('no prompt was segmented in any tomogram: no particle to make a reference of');
  const meanVoxels = inputs.reduce((s, { reference: r }, i) => s + prompts[i] * r.particle.meanVoxels, 0) / total;
  const polarityVote = inputs.reduce((s, { reference: r }, i) => s + prompts[i] * r.particle.polarity, 0);
  const vectors = first.query.mode === 'mean'
    ? [weightedUnit(inputs.map(({ reference: r }) => r.query.vectors[0]), inputs.map(({ reference: r }, i) => prompts[i] * r.particle.meanVoxels))]
    : inputs.flatMap(({ reference: r }) => r.query.vectors);
  return {
    version: first.version,
    engines: first.engines,
    voxelSizeA: first.voxelSizeA,
    featureSliceStep: first.featureSliceStep,
    query: { mode: first.query.mode, vectors },
    particle: { meanVoxels, equivalentRadius: equivalentRadius(meanVoxels), polarity: polarityVote < 0 ? -1 : 1 },
    sources: inputs.flatMap(({ reference: r }) => r.sources),
    prompted: [],
  };
}

/** A tomogram with prompts, opened when its turn comes (one tomogram in memory at a time). */
export interface PromptedTomogram {
  name: string;
  /** Its file, recorded in the reference's sources. */
  file?: string;
  prompts: readonly VoxelPoint[];
  open(): Promise<CryoSam>;
}

export interface MergedReferenceResult {
  reference: Reference;
  /** Per tomogram, in order: prompts given and segmented, picks that made its average. */
  tomograms: { name: string; prompts: number; segmented: number; picks: number }[];
}

/** How each tomogram's pick is made: the automatic count (its template cut makes the averages). */
export type MergePickOptions = Omit<PickOptions, 'topK'>;

/** A reference from prompts in several tomograms, with one self-template averaged over all of them. */
export async function referenceFromTomograms(tomograms: readonly PromptedTomogram[], opts: MergePickOptions = {}): Promise<MergedReferenceResult> {
  if (tomograms.length === 0) throw new CryosamError('no tomogram with prompts');
  // The second pass visits the tomograms in reverse, so the last one of the first pass is picked
  // while still open (a single tomogram is read, embedded and encoded once).
  let open: { index: number; sam: CryoSam } | undefined;
  const session = async (index: number) => {
    if (open?.index !== index) {
      await open?.sam.dispose();
      open = undefined;
      open = { index, sam: await tomograms[index].open() };
    }
    return open.sam;
  };
  try {
    const own: MergeInput[] = [];
    for (const [i, t] of tomograms.entries()) {
      const reference = await (await session(i)).reference(t.prompts, { segment: opts.segment, query: opts.query, featureSliceStep: opts.featureSliceStep });
      own.push({ name: t.name, reference: { ...reference, sources: reference.sources.map((s) => ({ ...s, ...(t.file ? { tomogram: t.file } : {}) })) } });
    }
    let merged = mergeReferences(own);
    let average: Reference['average'];
    let weight = 0;
    const report: MergedReferenceResult['tomograms'] = [];
    for (let i = tomograms.length - 1; i >= 0; i--) {
      const t = tomograms[i], { reference } = own[i];
      const here: Reference = { ...merged, sources: reference.sources, prompted: reference.prompted, ...(average ? { average } : {}) };
      const result = await (await session(i)).pick(here, { ...opts, topK: 'auto' });
      report.unshift({ name: t.name, prompts: t.prompts.length, segmented: segmentedPrompts(reference).length, picks: result.picks.length });
      const made = result.reference.average;
      if (!made || result.picks.length === 0) continue;
      const w = result.picks.length;
      if (!average) {
        // The first average settles the particle's size (its pick may have voted it): the later ones are made in its box.
        merged = { ...merged, particle: result.reference.particle };
        average = made;
      } else {
        const sum = average;
        average = { ...sum, data: sum.data.map((v, k) => (weight * v + w * made.data[k]) / (weight + w)) };
      }
      weight += w;
    }
    return { reference: { ...merged, ...(average ? { average } : {}) }, tomograms: report };
  } finally {
    await open?.sam.dispose();
  }
}
