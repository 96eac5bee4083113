/**
 * Automatic choice of the number of picks (topK 'auto') without an oracle count. With 'auto', the
 * pipeline segments the best proposals (at most AUTO_TOP_K_LIMIT), drops those whose volume is
 * unlike the prompts', and then cuts the remaining instances (the prompted ones are never cut).
 * Rules, kept side by side so they can be compared by measurement (bench/quality.ts):
 * - 'template' (default): the normalised cross-correlation of each instance's density with the
 *   self-template made from the prompts, after alignment (src/pipeline/self-template.ts), on the
 *   Fisher z scale, cut at its Otsu threshold (one population, SAME_POPULATION_RATIO, is kept
 *   whole). Needs MIN_CUT_INSTANCES instances; with fewer, all are kept;
 * - 'shape': two independent kinds of evidence per instance, the feature similarity that
 *   proposed it (on the −log(1 − s) scale) and the correlation of its rotation-invariant shape
 *   signature with the target's (src/pipeline/verify.ts; Fisher z scale), each standardised over
 *   the instances and summed; the sum is cut at its Otsu threshold. Feature similarity alone ranks
 *   same-size look-alikes among the targets; the signature separates them, and the summed evidence
 *   is bimodal enough for Otsu's split. Needs MIN_CUT_INSTANCES instances; with fewer, all are
 *   kept;
 * - 'anchor': the top half of the instances (with the prompts' own similarities) is taken as the
 *   target population; its median and robust spread (MAD) on the −log(1 − s) scale set the cut at
 *   ANCHOR_K spreads below the median (the default before 'shape');
 * - 'none': keep every verified instance;
 * - 'otsu': the threshold that maximises the between-class variance of the similarities;
 * - 'gmm': 1D Gaussian mixtures of 1–3 components (EM), chosen by BIC; keep the scores more likely
 *   under the highest component;
 * - 'relative': keep scores at least `RELATIVE_FRACTION` of the prompts' own similarity;
 * - 'gap': cut at the widest gap between consecutive sorted scores in the upper half of their range.
 * How 'template' was chosen: pipeline runs with every verified instance kept and scored by the
 * self-template, repeated particles dropped, each rule applied offline (realistic and medium seeds
 * 1–3, crowded seeds 1–2, 5 random prompts each; mean F1 and worst run). With the wedge-constrained
 * comparison (src/pipeline/self-template.ts): Otsu realistic 0.920 (0.907), medium 0.999 (0.980),
 * crowded 0.886 (0.864), against 0.935, 1.000 and 0.934 for the best threshold in hindsight; a
 * second split at a gap of 6 mean spacings inside Otsu's upper class (the default while the
 * comparison ignored the wedge) cost medium's worst run (0.837) for ≤ 0.002 elsewhere, at 8 and 10
 * spacings it made no difference, and a Gaussian mixture chosen by BIC fell to 0.546 on realistic.
 * Before the wedge was left out, Otsu measured realistic 0.884 (0.84), crowded 0.884 (0.87),
 * medium 0.847 (0.63), easy 1.000 in the same kind of comparison. The 'shape' rule was measured at realistic 0.850, crowded 0.823,
 * medium 0.808 in the same kind of comparison (below). Adding the feature similarity or the shape
 * signature to the evidence, Gaussian mixtures chosen by BIC, repeated Otsu splits (by separation,
 * or dropping a low class first), three-class Otsu, Kittler–Illingworth minimum-error thresholds
 * and the margin over a competing look-alike reference measured lower on at least one preset.
 * How 'shape' was chosen: pipeline runs with every verified instance kept, then each rule applied
 * offline, on the medium, crowded and realistic presets (3 seeds of realistic and medium, 2 of
 * crowded, 3 random prompts each, single and several prompts). Mean F1 against 'anchor':
 * realistic 0.850 vs 0.824, medium 0.808 vs 0.751, crowded 0.823 vs 0.796, realistic with 12 prompts
 * 0.878 vs 0.859, medium with 3 prompts 0.794 vs 0.752. Weighting the signature half or double
 * the similarity, an anchor-type or GMM cut on the summed evidence, or a signature reference from
 * the prompts alone measured lower. On similarities alone, otsu, gmm and gap split off single
 * outliers: targets and look-alikes form one skewed distribution there.
 */

export type AutoCutMethod = 'template' | 'shape' | 'anchor' | 'none' | 'otsu' | 'gmm' | 'relative' | 'gap';
export const AUTO_CUT_METHODS: readonly AutoCutMethod[] = ['template', 'shape', 'anchor', 'none', 'otsu', 'gmm', 'relative', 'gap'];
export const DEFAULT_AUTO_CUT: AutoCutMethod = 'template';
const RELATIVE_FRACTION = 0.9;
const ANCHOR_FRACTION = 0.5;
/**
 * Spreads below the median. Compared at 2, 2.5 and 3 on the medium, crowded and realistic presets
 * (2 seeds of medium, 3 prompts each): mean F1 0.80, 0.79, 0.77 and worst preset 0.76, 0.72, 0.69;
 * 3 was best on realistic alone (0.86 vs 0.82), 2 best across presets. A half-sample-mode centre
 * with an upper-side spread measured worse (mean 0.78 at 2). When the targets are most of the
 * instances, the top half is their upper part and the cut also drops their weakest members.
 */
const ANCHOR_K = 2;
export const MIN_CUT_INSTANCES = 16;
const MAD_PER_SIGMA = 1.4826;

/** −log(1 − s): stretches cosine similarities close to 1, where targets and look-alikes crowd. */
function stretch(s: number): number {
  return -Math.log(Math.max(1e-9, 1 - s));
}

/** Cut of the 'anchor' rule on sorted (descending) similarities; -Infinity keeps all. */
export function anchorThreshold(sorted: readonly number[]): number {
  if (sorted.length < MIN_CUT_INSTANCES) return -Infinity;
  const top = sorted.slice(0, Math.ceil(ANCHOR_FRACTION * sorted.length)).map(stretch).sort((a, b) => a - b);
  const median = top[Math.floor(top.length / 2)];
  const mad = top.map((v) => Math.abs(v - median)).sort((a, b) => a - b)[Math.floor(top.length / 2)] * MAD_PER_SIGMA;
  const cut = median - ANCHOR_K * mad;
  // Back to the similarity scale: stretch(s) ≥ cut ⇔ s ≥ 1 − e^(−cut).
  return 1 - Math.exp(-cut);
}

/** Fisher's z = atanh(r) of a correlation: spreads correlations near ±1, where the best matches crowd. */
export function fisherZ(r: number): number {
  return Math.atanh(Math.max(-0.999999, Math.min(0.999999, r)));
}

/** Values standardised to mean 0 and standard deviation 1 (all 0 when they do not vary). */
function standardise(values: readonly number[]): number[] {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  return values.map((v) => (sd > 0 ? (v - mean) / sd : 0));
}

/**
 * The 'shape' rule's evidence per instance: standardised −log(1 − similarity) plus standardised
 * Fisher z of the shape-signature correlation. Only meaningful relative to the same instances.
 */
export function combinedEvidence(similarities: readonly number[], shapeCorrelations: readonly number[]): number[] {
  const a = standardise(similarities.map(stretch));
  const b = standardise(shapeCorrelations.map(fisherZ));
  return a.map((v, i) => v + b[i]);
}

/**
 * Two Otsu classes of template correlations whose means (Fisher z) are this close are one
 * population, all matches (e.g. a tomogram of one kind of particle): every instance is kept. On
 * the presets' mixtures of targets and look-alikes the lower class's mean was 0.28–0.65 of the
 * upper's (medium, crowded and realistic seeds 1–3, one prompt, 5 draws each).
 */
const SAME_POPULATION_RATIO = 0.8;

function templateCut(sorted: readonly number[]): number {
  const k = countAbove(sorted, otsuThreshold(sorted));
  const mean = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
  const upper = mean(sorted.slice(0, k)), lower = mean(sorted.slice(k));
  return upper > 0 && lower >= SAME_POPULATION_RATIO * upper ? sorted.length : k;
}

/** Number of leading entries of `sorted` (descending) that are ≥ threshold. */
function countAbove(sorted: readonly number[], threshold: number): number {
  let k = 0;
  while (k < sorted.length && sorted[k] >= threshold) k++;
  return k;
}

/** Otsu threshold over the exact sorted values (no histogram: peak lists are short). */
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

interface Mixture {
  means: number[];
  variances: number[];
  weights: number[];
  logLikelihood: number;
}

const MIN_VARIANCE = 1e-6;

function gauss(x: number, m: number, v: number): number {
  return Math.exp(-((x - m) ** 2) / (2 * v)) / Math.sqrt(2 * Math.PI * v);
}

/** EM fit of a k-component 1D Gaussian mixture, started from equal-count groups of the sorted values. */
function fitMixture(xs: readonly number[], k: number): Mixture {
  const n = xs.length;
  const asc = [...xs].sort((a, b) => a - b);
  const means: number[] = [], variances: number[] = [], weights: number[] = [];
  for (let j = 0; j < k; j++) {
    const part = asc.slice(Math.floor((j * n) / k), Math.floor(((j + 1) * n) / k));
    const m = part.reduce((s, v) => s + v, 0) / part.length;
    means.push(m);
    variances.push(Math.max(MIN_VARIANCE, part.reduce((s, v) => s + (v - m) ** 2, 0) / part.length));
    weights.push(1 / k);
  }
  const resp = Array.from({ length: k }, () => new Float64Array(n));
  let logLikelihood = -Infinity;
  for (let it = 0; it < 200; it++) {
    let ll = 0;
    for (let i = 0; i < n; i++) {
      let total = 0;
      for (let j = 0; j < k; j++) total += resp[j][i] = weights[j] * gauss(asc[i], means[j], variances[j]);
      ll += Math.log(total > 0 ? total : Number.MIN_VALUE);
      for (let j = 0; j < k; j++) resp[j][i] = total > 0 ? resp[j][i] / total : 1 / k;
    }
    for (let j = 0; j < k; j++) {
      let w = 0, s = 0;
      for (let i = 0; i < n; i++) { w += resp[j][i]; s += resp[j][i] * asc[i]; }
      if (w < 1e-9) continue;
      means[j] = s / w;
      let v = 0;
      for (let i = 0; i < n; i++) v += resp[j][i] * (asc[i] - means[j]) ** 2;
      variances[j] = Math.max(MIN_VARIANCE, v / w);
      weights[j] = w / n;
    }
    const converged = ll - logLikelihood < 1e-9 * Math.abs(ll);
    logLikelihood = ll;
    if (converged) break;
  }
  return { means, variances, weights, logLikelihood };
}

/**
 * Fits mixtures of 1 to 3 Gaussians, keeps the one with the lowest BIC, and returns the lowest
 * score more likely under its highest component. Three components let "particles like the prompt",
 * "similar-looking distractors" and "background" separate when the data show them; a single
 * component means the peaks are one population, and all are kept.
 */
export function gmmThreshold(sorted: readonly number[]): number {
  const n = sorted.length;
  let best: Mixture | undefined, bestBic = Infinity;
  for (let k = 1; k <= Math.min(3, Math.floor(n / 3)); k++) {
    const m = fitMixture(sorted, k);
    const bic = (3 * k - 1) * Math.log(n) - 2 * m.logLikelihood;
    if (bic < bestBic) {
      bestBic = bic;
      best = m;
    }
  }
  if (!best || best.means.length === 1) return -Infinity;
  const top = best.means.indexOf(Math.max(...best.means));
  let thr = Infinity;
  for (const x of sorted) {
    const p = best.weights.map((w, j) => w * gauss(x, best.means[j], best.variances[j]));
    if (p.every((v, j) => v <= p[top] || j === top) && x >= best.means[top] - 3 * Math.sqrt(best.variances[top])) thr = Math.min(thr, x);
  }
  return thr;
}

function gapThreshold(sorted: readonly number[]): number {
  const top = sorted[0], bottom = sorted[sorted.length - 1];
  const mid = (top + bottom) / 2;
  let best = -1, thr = bottom;
  for (let i = 0; i + 1 < sorted.length && sorted[i] >= mid; i++) {
    const gap = sorted[i] - sorted[i + 1];
    if (gap > best) {
      best = gap;
      thr = sorted[i];
    }
  }
  return thr;
}

/**
 * How many of the scores (descending) to keep: similarities, for 'shape' the combinedEvidence, for
 * 'template' the Fisher z of the self-template correlations.
 * @param promptScores the prompts' own similarities (used by 'anchor' and 'relative').
 */
export function autoCut(sorted: readonly number[], promptScores: readonly number[], method: AutoCutMethod = DEFAULT_AUTO_CUT): number {
  if (sorted.length < 3) return sorted.length;
  switch (method) {
    case 'template':
      return sorted.length < MIN_CUT_INSTANCES ? sorted.length : templateCut(sorted);
    case 'shape':
      return sorted.length < MIN_CUT_INSTANCES ? sorted.length : countAbove(sorted, otsuThreshold(sorted));
    case 'anchor':
      // The prompts' own similarities belong to the target population: with many prompts, few
      // targets are left to find and the top half of the found ones alone would be background.
      return countAbove(sorted, anchorThreshold([...sorted, ...promptScores].sort((a, b) => b - a)));
    case 'none':
      return sorted.length;
    case 'otsu':
      return countAbove(sorted, otsuThreshold(sorted));
    case 'gmm':
      return countAbove(sorted, gmmThreshold(sorted));
    case 'relative': {
      const ref = promptScores.length ? promptScores.reduce((s, v) => s + v, 0) / promptScores.length : sorted[0];
      return countAbove(sorted, RELATIVE_FRACTION * ref);
    }
    case 'gap':
      return countAbove(sorted, gapThreshold(sorted));
  }
}
