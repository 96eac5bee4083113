/**
 * `cryosam demo`: the whole method in one offline command. Simulates a small tomogram with known
 * particles (easy preset, fixed seed), picks the target particles from one prompt (the first
 * ground-truth target), and prints precision, recall, F1 and timings.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { CryosamError } from '../errors.js';
import { writePicks } from '../io/coords/index.js';
import { scorePicks } from '../eval/score.js';
import { estimateClassRadii } from '../eval/segmentation.js';
import { presetConfig, simulateTomogram, targetClasses, writeSimulation } from '../eval/simulate/index.js';
import { CryoSam } from '../pipeline/cryosam.js';
import type { PickResult } from '../pipeline/types.js';
import { createCliProgress } from './progress.js';
import { writeRunReport } from '../io/report.js';
import { checkOutputFolder } from '../io/files.js';
import { describeEngineNames, parseEngineName } from '../engines/registry.js';
import { modelsDir } from '../paths.js';

export const DEMO_PRESET = 'easy';
export const DEMO_SEED = 1;

interface DemoOptions {
  out?: string;
  engine?: string;
  modelsDir?: string;
  mapsDir?: string;
  quiet?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      `Offline demonstration: simulate a small tomogram with known particles (preset '${DEMO_PRESET}', seed ${DEMO_SEED}), ` +
        'pick its target particles (80S ribosomes) from ONE point prompt, and score the picks against the ground truth ' +
        '(precision, recall, F1), with timings.',
    )
    .option('--out <dir>', 'folder for the simulated tomogram, ground truth, picks and report (default: a new temporary folder)')
    .option('--engine <name>', `engine: ${describeEngineNames()}`)
    .option('--models-dir <dir>', 'folder with model weights (default $CRYOSAM_MODELS or ~/.cache/cryosam/models)')
    .option('--maps-dir <dir>', 'folder of <id>.mrc density maps (default <shared>/data/maps; $CRYOSAM_SHARED sets <shared>)')
    .option('-q, --quiet', 'no progress bars')
    .action(async (opts: DemoOptions) => {
      if (opts.out) await checkOutputFolder(opts.out);
      if (opts.engine !== undefined) await parseEngineName(opts.engine, opts.modelsDir ?? modelsDir());
      const outDir = opts.out ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-demo-')));
      const progress = createCliProgress(opts.quiet);
      const started = performance.now();
      try {
        const config = presetConfig(DEMO_PRESET);
        const sim = await simulateTomogram(config, { seed: DEMO_SEED, mapsDir: opts.mapsDir, onProgress: progress.onProgress });
        const files = await writeSimulation(sim, outDir);
        const simulateSeconds = (performance.now() - started) / 1000;

        const target = sim.classes.find((c) => c.id === targetClasses(config)[0]);
        const truth = sim.picks.filter((p) => p.className === target?.id);
        if (!target || truth.length === 0) throw new CryosamError(`the '${DEMO_PRESET}' simulation has no target particle to prompt`);
        const prompt = { x: Math.round(truth[0].x), y: Math.round(truth[0].y), z: Math.round(truth[0].z) };
        // Match within the target's equivalent-sphere radius, as `cryosam eval --labels` does.
        const radius = estimateClassRadii(sim.labels.data, sim.labels.shape)[String(target.label)];

        const pickStarted = performance.now();
        const cryosam = await CryoSam.create(sim.tomogram, {
          engine: { engine: opts.engine, modelsDir: opts.modelsDir },
          cacheDir: false,
          normalizeInPlace: true,
          onProgress: progress.onProgress,
        });
        let result: PickResult;
        let engines: ReturnType<CryoSam['engineIdentities']>;
        try {
          result = await cryosam.pick([prompt]);
          engines = cryosam.engineIdentities();
        } finally {
          await cryosam.dispose();
        }
        const pickSeconds = (performance.now() - pickStarted) / 1000;
        progress.stop();

        const picksFile = path.join(outDir, 'picks.csv');
        await writePicks(picksFile, result.picks, { voxelSize: sim.config.voxelSizeA, shape: sim.tomogram.shape });
        const score = scorePicks(result.picks, truth, radius);
        const [nz, ny, nx] = sim.tomogram.shape;
        const out = [
          `simulated ${nx}×${ny}×${nz} voxels at ${sim.config.voxelSizeA} Å: ${truth.length} × ${target.id} (target) among ` +
            `${sim.picks.length - truth.length} other particles, SNR ${sim.config.snr}`,
          `prompt: one point at x=${prompt.x}, y=${prompt.y}, z=${prompt.z} (the first ${target.id})`,
          `picked ${result.picks.length} particles; matched within ${radius.toFixed(1)} voxels: TP ${score.tp}, FP ${score.fp}, FN ${score.fn}`,
          `precision ${score.precision.toFixed(3)}  recall ${score.recall.toFixed(3)}`,
          `F1 ${score.f1.toFixed(3)}`,
          `time: simulate ${simulateSeconds.toFixed(1)} s, pick ${pickSeconds.toFixed(1)} s (` +
            result.report.stages.map((s) => `${s.name} ${s.seconds.toFixed(1)} s`).join(', ') + ')',
          `files in ${outDir}:`,
          `  tomogram ${path.basename(files.tomogram)}, ground truth ${path.basename(files.picksByClass[target.id])}, ` +
            `labels ${path.basename(files.labels)}, picks ${path.basename(picksFile)}, report report.json`,
          `score again: cryosam eval --picks ${picksFile} --truth ${files.picksByClass[target.id]} --tomogram ${files.tomogram} --distance ${radius.toFixed(1)}`,
        ];
        process.stdout.write(out.join('\n') + '\n');
        const { matches: _matches, ...counts } = score;
        await writeRunReport(path.join(outDir, 'report.json'), {
          command: 'demo',
          argv: process.argv.slice(2),
          preset: DEMO_PRESET,
          seed: DEMO_SEED,
          prompt,
          engines,
          matchDistanceVoxels: radius,
          score: counts,
          seconds: { simulate: simulateSeconds, pick: pickSeconds, total: (performance.now() - started) / 1000 },
          pickReport: result.report,
          files: { ...files, picksPredicted: picksFile },
        });
      } finally {
        progress.stop();
      }
    });
}
