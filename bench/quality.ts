/**
 * Quality part of `npm run bench`: the paper's protocol (src/eval/protocol.ts) on simulated presets
 * and on the DeepFinder toy100 tomograms (third-party ground truth), with PNG plots.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EngineOptions } from '../src/engines/registry.js';
import {
  annotationRatio,
  featureAblation,
  matchingAblation,
  proposalCurve,
  queryAblation,
  wedgeAblation,
  type AnnotationRatio,
  type AnnotationRatioRow,
  type EvalTarget,
  type FeatureAblationRow,
  type MatchingAblationRow,
  type ProposalPoint,
  type QueryAblationRow,
  type WedgeAblationRow,
} from '../src/eval/protocol.js';
import { plotLines, type PlotSeries } from '../src/eval/plot.js';
import { estimateClassRadii } from '../src/eval/segmentation.js';
import { PRESETS, simulateTomogram } from '../src/eval/simulate/index.js';
import { readPicks } from '../src/io/coords/index.js';
import { readMrc } from '../src/io/mrc/index.js';
import { modelsDir, sharedDir } from '../src/paths.js';
import { CryoSam } from '../src/pipeline/cryosam.js';

export interface QualitySettings {
  presets: string[];
  simulationSeeds: number[];
  promptSeeds: number[];
  ratios: AnnotationRatio[];
  deepFinderTomograms: number[];
  /** Prompt draws per DeepFinder class (each class has 3 particles). */
  deepFinderPromptSeeds: number[];
  /** Presets whose first seed also runs the ablations (matching, proposals, features). */
  ablationPresets: string[];
  /** Presets whose first seed also compares the template cut with and without the missing wedge. */
  wedgePresets: string[];
  engine: EngineOptions;
  /** Feature extractors compared in the ablation. */
  ablationEngines: EngineOptions[];
  log: (line: string) => void;
}

export interface TargetResult {
  dataset: string;
  tomogram: string;
  className: string;
  particles: number;
  radiusVoxels: number;
  rows: AnnotationRatioRow[];
}

export interface AblationResult {
  dataset: string;
  className: string;
  features: FeatureAblationRow[];
  matching: { rows: MatchingAblationRow[]; naiveOverHierarchical: number };
  /** Query modes with 10% of the particles prompted. */
  queries: QueryAblationRow[];
  proposals: ProposalPoint[];
  plot: string;
}

export interface WedgeResult {
  dataset: string;
  tomogram: string;
  className: string;
  rows: WedgeAblationRow[];
}

export interface QualityResult {
  simulated: TargetResult[];
  ablations: AblationResult[];
  wedge: WedgeResult[];
  deepFinder: TargetResult[];
  plots: string[];
}

export function quickQuality(engine: EngineOptions, log: (line: string) => void): QualitySettings {
  return {
    presets: ['easy'],
    simulationSeeds: [1],
    promptSeeds: [1],
    ratios: ['one', 0.3],
    deepFinderTomograms: [1],
    deepFinderPromptSeeds: [1],
    ablationPresets: ['easy'],
    wedgePresets: ['easy'],
    engine,
    ablationEngines: [{ engine: 'classical' }],
    log,
  };
}

export async function fullQuality(engine: EngineOptions, log: (line: string) => void): Promise<QualitySettings> {
  return {
    // Sized to finish in about half an hour on 2 cores: 3 simulated tomograms of each preset (the
    // defaults must hold beyond one seed), 5 prompt draws, the ratios one/10%; a realistic-preset
    // pick takes ~25 s. The ablations (naive matching is the slow part) run on the first medium tomogram.
    presets: ['easy', 'medium', 'realistic'],
    simulationSeeds: [1, 2, 3],
    promptSeeds: [1, 2, 3, 4, 5],
    ratios: ['one', 0.1],
    deepFinderTomograms: [1, 2, 3, 4, 5],
    deepFinderPromptSeeds: [1, 2],
    ablationPresets: ['medium'],
    wedgePresets: ['medium', 'realistic'],
    engine,
    ablationEngines: [{ engine: 'classical' }, { engine: 'xfeat' }, ...(await installedDinov2()).map((engine) => ({ engine }))],
    log,
  };
}

/** DINOv2 model folders in the models directory (none on machines without the weights). */
async function installedDinov2(): Promise<string[]> {
  const names = await fs.readdir(modelsDir()).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith('dinov2')).sort();
}

export async function runQuality(settings: QualitySettings, outDir: string): Promise<QualityResult> {
  const result: QualityResult = { simulated: [], ablations: [], wedge: [], deepFinder: [], plots: [] };
  for (const preset of settings.presets) {
    for (const [index, seed] of settings.simulationSeeds.entries()) {
      settings.log(`quality: simulating ${preset} (seed ${seed})`);
      const sim = await simulateTomogram(PRESETS[preset], { seed });
      for (const cls of sim.classes.filter((c) => c.role === 'target')) {
        const target: EvalTarget = {
          tomogram: sim.tomogram,
          truth: sim.picks.filter((p) => p.className === cls.id),
          radiusVoxels: cls.radiusVoxels,
        };
        const session = await CryoSam.create(sim.tomogram, { engine: settings.engine, cacheDir: false, normalizeInPlace: true });
        try {
          settings.log(`quality: ${preset} seed ${seed}, ${cls.id}: annotation ratios`);
          const { rows } = await annotationRatio(target, { session, ratios: settings.ratios, seeds: settings.promptSeeds });
          result.simulated.push({
            dataset: `sim-${preset}`,
            tomogram: `seed ${seed}`,
            className: cls.id,
            particles: target.truth.length,
            radiusVoxels: cls.radiusVoxels,
            rows,
          });
          if (index === 0 && settings.ablationPresets.includes(preset)) result.ablations.push(await ablations(`sim-${preset}`, cls.id, target, session, settings, outDir));
          if (index === 0 && settings.wedgePresets.includes(preset)) {
            settings.log(`quality: ${preset} seed ${seed}, ${cls.id}: missing-wedge ablation`);
            const { rows: wedgeRows } = await wedgeAblation(target, { session, seeds: settings.promptSeeds });
            result.wedge.push({ dataset: `sim-${preset}`, tomogram: `seed ${seed}`, className: cls.id, rows: wedgeRows });
          }
        } finally {
          await session.dispose();
        }
      }
    }
  }
  for (const n of settings.deepFinderTomograms) result.deepFinder.push(...(await deepFinder(n, settings)));

  result.plots.push(...result.ablations.map((a) => a.plot));
  result.plots.push(await ratioPlot(result.simulated, 'Simulated: F1 vs annotation ratio', path.join(outDir, 'annotation-ratio-simulated.png')));
  if (result.deepFinder.length > 0) result.plots.push(await deepFinderPlot(result.deepFinder, outDir));
  return result;
}

async function ablations(
  dataset: string,
  className: string,
  target: EvalTarget,
  session: CryoSam,
  settings: QualitySettings,
  outDir: string,
): Promise<AblationResult> {
  settings.log(`quality: ${dataset} ${className}: matching ablation`);
  const matching = await matchingAblation(target, { session, seeds: settings.promptSeeds });
  settings.log(`quality: ${dataset} ${className}: query ablation`);
  const { rows: queries } = await queryAblation(target, { session, seeds: settings.promptSeeds, ratio: 0.1 });
  settings.log(`quality: ${dataset} ${className}: proposal curve`);
  const n = target.truth.length;
  const ks = [...new Set([0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3].map((f) => Math.max(1, Math.round(f * n))))];
  const { points } = await proposalCurve(target, { session, ks, seed: settings.promptSeeds[0] });
  const plot = path.join(outDir, `proposals-${dataset}-${className}.png`);
  await plotLines(
    {
      title: `${dataset} ${className}: precision-recall over K`,
      xLabel: 'recall',
      yLabel: 'precision',
      xRange: [0, 1],
      yRange: [0, 1],
      series: [{ name: `K = ${ks[0]}..${ks[ks.length - 1]} proposals`, points: points.map((p) => [p.recall, p.precision]) }],
    },
    plot,
  );
  settings.log(`quality: ${dataset} ${className}: feature ablation`);
  const { rows: features } = await featureAblation(target, { engines: settings.ablationEngines, seeds: settings.promptSeeds, cacheDir: false });
  return { dataset, className, features, matching, queries, proposals: points, plot: path.basename(plot) };
}

/** Each DeepFinder class (3 particles a tomogram) is prompted once (30% of 3 particles is also one prompt). */
const DEEPFINDER_RATIOS: AnnotationRatio[] = ['one'];

/** DeepFinder toy100 tomogram n, every class. */
async function deepFinder(n: number, settings: QualitySettings): Promise<TargetResult[]> {
  const dir = path.join(sharedDir(), 'data', 'deepfinder_toy100');
  settings.log(`quality: DeepFinder tomo${n}`);
  const tomogram = await readMrc(path.join(dir, `tomo${n}_data.mrc`));
  const labels = await readMrc(path.join(dir, `tomo${n}_target.mrc`));
  const radii = estimateClassRadii(labels.data, labels.shape);
  // Coordinates are in voxels; the voxel size (unknown, header 1 Å) does not enter.
  const truth = await readPicks(path.join(dir, `tomo${n}_gt.csv`), { voxelSize: 1, shape: tomogram.shape });
  const classes = [...new Set(truth.map((p) => p.className ?? ''))].sort((a, b) => Number(a) - Number(b));
  const results: TargetResult[] = [];
  const session = await CryoSam.create(tomogram, { engine: settings.engine, cacheDir: false, normalizeInPlace: true });
  try {
    for (const className of classes) {
      const target: EvalTarget = { tomogram, truth: truth.filter((p) => p.className === className), radiusVoxels: radii[className] };
      const { rows } = await annotationRatio(target, { session, ratios: DEEPFINDER_RATIOS, seeds: settings.deepFinderPromptSeeds });
      results.push({ dataset: 'deepfinder-toy100', tomogram: `tomo${n}`, className, particles: target.truth.length, radiusVoxels: radii[className], rows });
    }
  } finally {
    await session.dispose();
  }
  return results;
}

function ratioPercent(row: AnnotationRatioRow, particles: number): number {
  return (100 * row.prompts) / particles;
}

async function ratioPlot(targets: TargetResult[], title: string, file: string): Promise<string> {
  const series: PlotSeries[] = targets.map((t) => ({
    name: `${t.dataset} ${t.tomogram} ${t.className}`,
    points: t.rows.map((r) => [ratioPercent(r, t.particles), r.f1.mean] as [number, number]),
    errors: t.rows.map((r) => r.f1.sd),
  }));
  await plotLines({ title, xLabel: 'prompted particles (%)', yLabel: 'F1', yRange: [0, 1], series }, file);
  return path.basename(file);
}

/** F1 per DeepFinder class, averaged over tomograms, one series per ratio. */
async function deepFinderPlot(targets: TargetResult[], outDir: string): Promise<string> {
  const file = path.join(outDir, 'deepfinder-f1-per-class.png');
  const series: PlotSeries[] = DEEPFINDER_RATIOS.map((ratio) => {
    const byClass = new Map<string, number[]>();
    for (const t of targets) {
      const row = t.rows.find((r) => r.ratio === ratio);
      if (row) byClass.set(t.className, [...(byClass.get(t.className) ?? []), row.f1.mean]);
    }
    return {
      name: ratio === 'one' ? 'one prompt' : `${Math.round(ratio * 100)}% prompted`,
      points: [...byClass].map(([c, f1s]) => [Number(c), f1s.reduce((s, v) => s + v, 0) / f1s.length] as [number, number]),
    };
  });
  await plotLines({ title: 'DeepFinder toy100: F1 per class', xLabel: 'class', yLabel: 'F1 (mean over tomograms)', yRange: [0, 1], series }, file);
  return path.basename(file);
}
