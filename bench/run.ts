/**
 * `npm run bench`: measures quality (the paper's protocol on simulated and DeepFinder tomograms),
 * speed (stages, encoder throughput, hierarchical vs naive matching, a full pick on a large
 * tomogram) and memory (peak RSS per stage, MRC reading), and writes report.md, report.json and
 * PNG plots to one folder. Every figure in the report is measured by the run that writes it.
 *
 *   npm run bench -- [--out DIR] [--quick] [--only quality|speed|memory|io|engines] [--engine NAME]
 *                    [--presets LIST] [--sim-seeds LIST] [--no-ablations] [--no-deepfinder]
 *                    [--dataset-preset NAME] [--dataset-seeds LIST] [--click-presets LIST] [--click-seeds LIST]
 *                    [--structure-seeds LIST] [--many-seed N]
 */
import { Command, InvalidArgumentError } from 'commander';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../src/io/atomic.js';
import type { EngineOptions } from '../src/engines/registry.js';
import { benchClicks, type ClicksBench } from './clicks.js';
import { benchDataset, type DatasetBench } from './dataset.js';
import { benchMany, type ManyBench } from './many.js';
import { benchStructures, type StructuresBench } from './structures.js';
import { benchEngines, type EngineBenchRow } from './engines.js';
import { benchLargePick, type LargeBench } from './large.js';
import { machineInfo, type MachineInfo } from './machine.js';
import { benchMrcRead, type MrcReadBench } from './mrc.js';
import { PRESETS } from '../src/eval/simulate/index.js';
import { fullQuality, quickQuality, runQuality, type QualityResult } from './quality.js';
import { renderReport } from './report.js';
import { benchViewer, type ViewerBench } from './viewer.js';

const SECTIONS = ['quality', 'clicks', 'structures', 'many', 'speed', 'memory', 'io', 'engines', 'viewer', 'dataset'] as const;
type Section = (typeof SECTIONS)[number];

export interface BenchReport {
  command: string;
  startedAt: string;
  seconds: number;
  quick: boolean;
  sections: Section[];
  machine: MachineInfo;
  engine: EngineOptions;
  quality?: QualityResult;
  large?: LargeBench;
  engines?: EngineBenchRow[];
  mrcRead?: MrcReadBench;
  viewer?: ViewerBench;
  dataset?: DatasetBench;
  clicks?: ClicksBench;
  structures?: StructuresBench;
  many?: ManyBench;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run bench --')
    .description('Benchmark cryosam; writes report.md, report.json and PNG plots to the output folder.')
    .option('--out <dir>', 'output folder', 'bench-results')
    .option('--quick', 'a small smoke run: one small preset, one seed, one DeepFinder tomogram, small files')
    .option('--only <section>', `run one section: ${SECTIONS.join(', ')}`, (v: string) => {
      if (!(SECTIONS as readonly string[]).includes(v)) throw new InvalidArgumentError(`choose one of ${SECTIONS.join(', ')}`);
      return v as Section;
    })
    .option('--engine <name>', "engine for the pipeline runs ('classical', 'xfeat', SEG+FEAT)", 'classical')
    .option('--presets <list>', `simulated presets of the quality section, comma-separated (default easy,medium,realistic; any of ${Object.keys(PRESETS).join(', ')})`, (v: string) => {
      const names = v.split(',').map((n) => n.trim());
      const unknown = names.filter((n) => !(n in PRESETS));
      if (unknown.length > 0) throw new InvalidArgumentError(`unknown preset ${unknown.join(', ')}`);
      return names;
    })
    .option('--sim-seeds <list>', 'simulation seeds of the quality section, comma-separated (default 1,2,3; e.g. 6,7 for tomograms no default was chosen on)', (v: string) => {
      const items = v.split(',').map((n) => n.trim());
      const seeds = items.map(Number);
      if (items.some((n) => n === '') || !seeds.every((n) => Number.isInteger(n) && n >= 0)) throw new InvalidArgumentError(`expected whole numbers such as 6,7, got "${v}"`);
      return seeds;
    })
    .option('--no-ablations', 'quality section without the ablations (features, matching, query, K, missing wedge)')
    .option('--no-deepfinder', 'quality section without the DeepFinder toy100 tomograms')
    .option('--click-presets <list>', 'presets of the clicks section, comma-separated (default realistic,medium)', (v: string) => v.split(',').map((n) => n.trim()), ['realistic', 'medium'])
    .option('--structure-seeds <list>', 'simulation seeds of the structures section (presets filaments and membranes; default 1,2,3)', (v: string) => v.split(',').map(Number), [1, 2, 3])
    .option('--click-seeds <list>', 'simulation seeds of the clicks section (default 1,2,3); each tomogram is clicked on 3 random particles', (v: string) => v.split(',').map(Number), [1, 2, 3])
    .option('--many-seed <n>', 'simulation seed of the many section (two 200×1024² tomograms, 120 and 900 ribosomes; default 1)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got "${v}"`);
      return n;
    }, 1)
    .option('--dataset-preset <name>', 'preset of the dataset section (default medium)', 'medium')
    .option('--dataset-seeds <list>', 'simulation seeds of the dataset section, one tomogram each (default 11..16)', (v: string) => v.split(',').map(Number), [11, 12, 13, 14, 15, 16])
    .parse(process.argv);
  const opts = program.opts<{
    out: string; quick?: boolean; only?: Section; engine: string; presets?: string[]; simSeeds?: number[]; ablations: boolean; deepfinder: boolean;
    datasetPreset: string; datasetSeeds: number[]; clickPresets: string[]; clickSeeds: number[]; structureSeeds: number[]; manySeed: number;
  }>();
  const quick = opts.quick === true;
  const sections: Section[] = opts.only ? [opts.only] : [...SECTIONS];
  const engine: EngineOptions = { engine: opts.engine };
  const outDir = path.resolve(opts.out);
  await fs.mkdir(outDir, { recursive: true });
  const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

  const started = performance.now();
  const report: BenchReport = {
    command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
    startedAt: new Date().toISOString(),
    seconds: 0,
    quick,
    sections,
    machine: machineInfo(),
    engine,
  };
  if (sections.includes('quality')) {
    const settings = quick ? quickQuality(engine, log) : await fullQuality(engine, log);
    if (opts.presets) settings.presets = opts.presets;
    if (opts.simSeeds) settings.simulationSeeds = opts.simSeeds;
    if (!opts.ablations) (settings.ablationPresets = []), (settings.wedgePresets = []);
    if (!opts.deepfinder) settings.deepFinderTomograms = [];
    report.quality = await runQuality(settings, outDir);
  }
  if (sections.includes('clicks')) {
    log('clicks: prompts off the particle centre (0, 1/3, 1/2 radius)');
    report.clicks = await benchClicks(quick ? ['easy'] : opts.clickPresets, quick ? [1] : opts.clickSeeds, quick ? [1] : [1, 2, 3], engine, log);
  }
  if (sections.includes('structures')) {
    log('structures: filaments and membranes from one click (simulated, and the real microtubule)');
    report.structures = await benchStructures(quick ? [1] : opts.structureSeeds, engine, outDir, log);
  }
  if (sections.includes('many')) {
    log('many: one click on a real-size tomogram with few and with many ribosomes');
    report.many = await benchMany(quick ? [64, 256, 256] : [200, 1024, 1024], quick ? [20, 60] : [120, 900], opts.manySeed, log);
  }
  if (sections.includes('speed') || sections.includes('memory')) {
    // One child-process pick serves both: its stage times (speed) and stage peak RSS (memory).
    const preset = quick ? 'easy' : 'large';
    log(`speed/memory: full single-prompt pick on preset ${preset}`);
    report.large = await benchLargePick(preset, engine);
  }
  if (sections.includes('speed') || sections.includes('engines')) {
    log('engines: encoder throughput');
    report.engines = await benchEngines({ quick });
  }
  if (sections.includes('memory') || sections.includes('io')) {
    log('io: MRC read throughput');
    report.mrcRead = await benchMrcRead({ sizeGiB: quick ? 0.05 : 1 });
  }
  if (sections.includes('viewer')) {
    log('viewer: open and slice stepping on a large tomogram');
    report.viewer = await benchViewer(quick ? [64, 256, 256] : undefined);
  }
  if (sections.includes('dataset')) {
    log('dataset: a reference from one click picks several tomograms (batch, --jobs, Slurm)');
    report.dataset = await benchDataset(quick ? 'easy' : opts.datasetPreset, quick ? [1, 2] : opts.datasetSeeds, log);
  }
  report.seconds = (performance.now() - started) / 1000;

  await writeFileAtomic(path.join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFileAtomic(path.join(outDir, 'report.md'), renderReport(report));
  log(`wrote ${path.join(outDir, 'report.md')} and report.json in ${report.seconds.toFixed(0)} s`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
