/**
 * `cryosam simulate OUTDIR`: a synthetic tomogram with exact ground truth (labels, instances,
 * picks per class) from real density maps. A preset gives the scene; options override it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { CryosamError } from '../errors.js';
import { cliFormat, type CoordFormat } from '../io/coords/index.js';
import {
  listPresets,
  presetConfig,
  simulateTomogram,
  validateConfig,
  writeSimulation,
  defaultMapsDir,
  type SimulationConfig,
  type Simulation,
  type SimulationFiles,
} from '../eval/simulate/index.js';
import { DEFAULT_TILT_SERIES, describeTiltSeries } from '../eval/simulate/tilt-series.js';
import { createCliProgress } from './progress.js';
import { writeRunReport } from '../io/report.js';
import { checkOutputFolder, requireInputFile } from '../io/files.js';

export interface SimulateCliOptions {
  preset: string;
  config?: string;
  seed: number;
  shape?: [number, number, number];
  voxelSize?: number;
  snr?: number | null;
  wedge?: number | null;
  defocus?: number | null;
  smooth?: number;
  polarity?: 'dark' | 'bright';
  count?: number;
  volumeFraction?: number;
  classes?: { map: string; count?: number }[];
  target?: string;
  format?: CoordFormat;
  mapsDir?: string;
  quiet?: boolean;
  tiltSeries?: boolean;
  tiltStep?: number;
  phaseFlip?: boolean;
  dose?: number;
}

/** Default number of particles for a class named on --classes without a count and absent from the preset. */
const DEFAULT_CLASS_COUNT = 10;

/** The preset (or --config file) with the command-line overrides applied, validated. */
export async function simulationConfigFromOptions(opts: SimulateCliOptions): Promise<SimulationConfig> {
  const config = opts.config ? await readConfigFile(opts.config) : presetConfig(opts.preset);
  if (opts.shape) config.shape = opts.shape;
  if (opts.voxelSize !== undefined) config.voxelSizeA = opts.voxelSize;
  if (opts.snr !== undefined) config.snr = opts.snr;
  const tiltOption = opts.tiltSeries || opts.tiltStep !== undefined || opts.phaseFlip || opts.dose !== undefined;
  if (tiltOption || (config.tiltSeries && (opts.wedge !== undefined || opts.defocus !== undefined))) applyTiltSeriesOptions(config, opts);
  else {
    if (opts.wedge !== undefined) config.tiltRangeDeg = opts.wedge;
    if (opts.defocus !== undefined) {
      if (opts.defocus !== null && config.ctf === null) throw new CryosamError('--defocus needs a CTF band-pass: this preset has none');
      if (config.ctf) config.ctf.defocusUm = opts.defocus;
    }
  }
  if (opts.smooth !== undefined) config.smoothingSigmaVoxels = opts.smooth;
  if (opts.polarity) config.polarity = opts.polarity;
  if (opts.volumeFraction !== undefined) config.volumeFraction = opts.volumeFraction;
  if (opts.classes) {
    const before = new Map(config.classes.map((c) => [c.map, c]));
    config.classes = opts.classes.map(({ map, count }) => ({
      map,
      count: count ?? before.get(map)?.count ?? DEFAULT_CLASS_COUNT,
      role: before.get(map)?.role ?? 'distractor',
    }));
  }
  if (opts.target !== undefined) {
    const target = opts.target;
    if (!config.classes.some((c) => c.map === target)) {
      throw new CryosamError(`--target ${target} is not among the classes (${config.classes.map((c) => c.map).join(', ')})`);
    }
    for (const c of config.classes) c.role = c.map === target ? 'target' : 'distractor';
  }
  if (opts.count !== undefined) {
    const targets = config.classes.filter((c) => c.role === 'target');
    if (targets.length === 0) throw new CryosamError('--count sets the target class\'s count, but no class is the target: name one with --target');
    for (const c of targets) c.count = opts.count;
  }
  return validateConfig(config, opts.config ?? `preset ${opts.preset} with options`);
}

/**
 * --tilt-series and the options that refine it (they imply it): the preset's tilt series, or the
 * default one, with --wedge, --defocus, --tilt-step, --dose and --phase-flip applied to it.
 */
function applyTiltSeriesOptions(config: SimulationConfig, opts: SimulateCliOptions): void {
  const ts = { ...(config.tiltSeries ?? DEFAULT_TILT_SERIES) };
  if (opts.wedge !== undefined) {
    if (opts.wedge === null) throw new CryosamError('--wedge none: a tilt series always has a tilt range (give degrees, e.g. 60)');
    ts.minDeg = -opts.wedge;
    ts.maxDeg = opts.wedge;
  }
  if (opts.defocus !== undefined) {
    if (opts.defocus === null) throw new CryosamError('--defocus none: a tilt series always has a CTF (give µm, e.g. 3)');
    ts.defocusUm = opts.defocus;
    ts.defocusSpreadUm = Math.min(ts.defocusSpreadUm, opts.defocus / 2);
  }
  if (opts.tiltStep !== undefined) ts.stepDeg = opts.tiltStep;
  if (opts.dose !== undefined) ts.dosePerTiltE = opts.dose;
  if (opts.phaseFlip) ts.phaseFlip = true;
  config.tiltSeries = ts;
  // The Fourier wedge is unused now; keep it consistent with the tilt range for readers of the manifest.
  config.tiltRangeDeg = Math.max(Math.abs(ts.minDeg), Math.abs(ts.maxDeg));
}

async function readConfigFile(file: string): Promise<SimulationConfig> {
  await requireInputFile(file);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new CryosamError(`cannot read simulation config (${(err as NodeJS.ErrnoException).code ?? String(err)})`, file);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CryosamError(`not JSON: ${(err as Error).message}`, file);
  }
  // A simulation.json manifest holds the config under "config".
  const config = typeof value === 'object' && value !== null && 'config' in value ? value.config : value;
  return validateConfig(config, file);
}

export function formatSimulationSummary(sim: Simulation, files: SimulationFiles, seconds: number): string {
  const [nz, ny, nx] = sim.tomogram.shape;
  const lines = [
    `simulated '${sim.config.name}' (seed ${sim.seed}) in ${seconds.toFixed(1)} s: ${nx}×${ny}×${nz} voxels (x×y×z) at ${sim.config.voxelSizeA} Å/voxel`,
    sim.config.tiltSeries
      ? `imaging: ${sim.config.polarity} protein, ${describeTiltSeries(sim.config.tiltSeries)}, ${sim.config.snr === null ? 'noise-free' : `SNR ${sim.config.snr}`}`
      : `imaging: ${sim.config.polarity} protein, ${sim.config.tiltRangeDeg === null ? 'no missing wedge' : `±${sim.config.tiltRangeDeg}° tilt range`}, ` +
      `${sim.config.ctf === null ? 'no CTF' : `band-pass ${sim.config.ctf.highPassA}–${sim.config.ctf.lowPassA} Å${sim.config.ctf.defocusUm === null ? '' : `, CTF at ${sim.config.ctf.defocusUm} µm defocus`}`}, ` +
      `${sim.config.snr === null ? 'noise-free' : `SNR ${sim.config.snr}`}`,
    'class      role        label  placed/asked  radius(vox)',
    ...sim.classes.map(
      (c) =>
        `${c.id.padEnd(10)} ${c.role.padEnd(11)} ${String(c.label).padStart(5)}  ${`${c.count}/${c.requested}`.padStart(12)}  ${c.radiusVoxels.toFixed(1).padStart(11)}`,
    ),
    `vesicles: ${sim.vesicles.length}/${sim.config.vesicles.count}, gold beads: ${sim.fiducials.length}/${sim.config.gold.count}`,
  ];
  if (sim.structures) lines.push(structureSummary(sim));
  const short = sim.classes.filter((c) => c.count < c.requested);
  if (short.length > 0) {
    lines.push(`note: the volume was too full for ${short.map((c) => `${c.requested - c.count} × ${c.id}`).join(', ')} (after ${sim.config.maxTries} tries each)`);
  }
  lines.push(
    'files:',
    `  tomogram   ${files.tomogram}`,
    `  labels     ${files.labels}`,
    `  instances  ${files.instances}`,
    `  picks      ${files.picks} (+ one file per class)`,
    `  manifest   ${files.manifest}`,
  );
  if (files.structures) {
    lines.push(`  structures ${files.structures.instances}, ${path.basename(files.structures.labels)}, ${path.basename(files.structures.measured)}, ${path.basename(files.structures.filaments)}, ${path.basename(files.structures.list)}`);
  }
  return lines.join('\n') + '\n';
}

/** Filaments and membranes placed, of those asked for. */
function structureSummary(sim: Simulation): string {
  const { filaments, membranes } = sim.structures!;
  const count = <T extends { kind: string }>(list: readonly T[], kind: string) => list.filter((s) => s.kind === kind).length;
  const { filaments: f, sheets: s } = sim.config;
  return (
    `microtubules: ${count(filaments, 'microtubule')}/${f.microtubules}, actin: ${count(filaments, 'actin')}/${f.actin}, ` +
    `flat sheets: ${count(membranes, 'flat')}/${s.flat}, curved sheets: ${count(membranes, 'curved')}/${s.curved}`
  );
}

function parseShape(value: string): [number, number, number] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((v) => !Number.isInteger(v) || v < 8)) {
    throw new InvalidArgumentError(`expected NZ,NY,NX as three whole numbers ≥ 8, got "${value}"`);
  }
  return [parts[0], parts[1], parts[2]];
}

function parseNumberOrNone(what: string, test: (v: number) => boolean) {
  return (value: string): number | null => {
    if (value.trim().toLowerCase() === 'none') return null;
    return parseNumber(what, test)(value);
  };
}

function parseNumber(what: string, test: (v: number) => boolean) {
  return (value: string): number => {
    const v = Number(value);
    if (value.trim() === '' || !Number.isFinite(v) || !test(v)) throw new InvalidArgumentError(`${what}, got "${value}"`);
    return v;
  };
}

function parseClasses(value: string): { map: string; count?: number }[] {
  return value.split(',').map((item) => {
    const [map, count, ...rest] = item.trim().split(':');
    if (!map || rest.length > 0) throw new InvalidArgumentError(`expected ID or ID:COUNT, got "${item}"`);
    if (count === undefined) return { map };
    const n = Number(count);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`count of ${map} must be a whole number ≥ 0, got "${count}"`);
    return { map, count: n };
  });
}

function presetHelp(): string {
  const width = Math.max(10, ...listPresets().map((p) => p.name.length));
  const rows = listPresets().map((p) => `  ${p.name.padEnd(width)} ${p.shape.join('×')} (z×y×x), target ${p.target.join(', ')}: ${p.description}`);
  return `\nPresets (easy to hard):\n${rows.join('\n')}\n\nOutputs in OUTDIR: tomogram.mrc (float32, mean 0, sd 1), labels.mrc (uint8: 0 = background, k = k-th class), ` +
    `instances.mrc (instance ids), picks_all.* and picks_<class>.* (particle centres in voxels), simulation.json (config, seed, ` +
    `classes, files) and report.json (run report).\nWith filaments, sheets or vesicles (presets filaments, membranes, medium, ...): structures.mrc (structure ids), ` +
    `structure_labels.mrc (uint8: 1 = filament, 2 = membrane), membrane_measured.mrc (uint8: 1 = membrane voxel whose normal the ` +
    `tilt series measured), filaments.star (axis points in voxels, rlnHelicalTubeID, rlnHelicalTrackLengthAngst in Å) and ` +
    `structures.json (filament radii and lengths in voxels and nm, membrane thickness and surfaces).\nSNR = variance of the noise-free tomogram / variance of the noise, over the whole volume.\n` +
    `\nTilt-series imaging (--tilt-series, or a *-tilt preset): instead of cutting a Fourier wedge and band-passing, the scene is ` +
    `projected at each tilt about y (default ${DEFAULT_TILT_SERIES.minDeg}..+${DEFAULT_TILT_SERIES.maxDeg}° every ${DEFAULT_TILT_SERIES.stepDeg}°, beam along z at 0°); ` +
    `each projection gets the CTF (300 kV, Cs 2.7 mm, 7% amplitude contrast, ${DEFAULT_TILT_SERIES.defocusUm} µm underfocus ± ${DEFAULT_TILT_SERIES.defocusSpreadUm} µm per tilt), ` +
    `radiation damage of the dose-symmetric exposure (${DEFAULT_TILT_SERIES.dosePerTiltE} e⁻/Å² per tilt, Grant & Grigorieff critical exposure) and white noise, ` +
    `and the tomogram is their R-weighted back-projection, without CTF correction unless --phase-flip. ` +
    `The SNR is measured on the reconstruction. --wedge and --defocus then set the tilt range and the defocus of the tilt series.\n`;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'Simulate a tomogram with exact ground truth from real density maps (10 Å/voxel): particles at random ' +
        'positions and orientations without overlap, vesicles, gold, missing wedge, CTF-like band-pass and noise. ' +
        'The same seed gives the same files.',
    )
    .argument('<outdir>', 'folder for the outputs (created if missing)')
    .option('--preset <name>', 'scene and imaging to start from (see below)', 'easy')
    .option('--config <json>', 'start from this simulation config instead (JSON; a simulation.json manifest works too)')
    .option('--seed <n>', 'random seed (whole number 0..2^32-1); the same seed reproduces the tomogram bit for bit', parseNumber('expected a whole number ≥ 0', (v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32), 1)
    .option('--shape <nz,ny,nx>', 'tomogram size in voxels, z,y,x order', parseShape)
    .option('--voxel-size <Å>', 'tomogram voxel size in Å (maps are 10 Å and are rescaled)', parseNumber('expected a positive number of Å', (v) => v > 0))
    .option('--snr <x|none>', 'signal-to-noise ratio (signal variance / noise variance over the volume), or none for a noise-free tomogram', parseNumberOrNone('expected a number > 0 or none', (v) => v > 0))
    .option('--wedge <deg|none>', 'tilt range ±deg about y, i.e. a missing wedge around z (60 for ±60°), or none', parseNumberOrNone('expected degrees in [0, 90] or none', (v) => v >= 0 && v <= 90))
    .option('--defocus <µm|none>', 'apply the oscillating CTF at this underfocus in µm (e.g. 3), or none for the band-pass alone', parseNumberOrNone('expected µm > 0 or none', (v) => v > 0))
    .option('--smooth <σ>', 'Gaussian smoothing of the final tomogram, σ in voxels (0 = none)', parseNumber('expected a number ≥ 0', (v) => v >= 0))
    .option('--polarity <dark|bright>', 'protein darker than the background (dark, as in cryo-ET; default) or brighter', (v: string) => {
      if (v !== 'dark' && v !== 'bright') throw new InvalidArgumentError(`expected dark or bright, got "${v}"`);
      return v;
    })
    .option('--count <n>', 'number of target particles', parseNumber('expected a whole number ≥ 0', (v) => Number.isInteger(v) && v >= 0))
    .option('--volume-fraction <f>', 'crowding: scale all counts so particles fill this fraction of the volume (e.g. 0.05)', parseNumber('expected a number in (0, 0.5]', (v) => v > 0 && v <= 0.5))
    .option('--classes <ids>', 'particle classes as map ids with optional counts, e.g. 4v7r:100,4v94:20,1bxn (map files in --maps-dir)', parseClasses)
    .option('--target <id>', 'the class a picker should find (the others become distractors)')
    .option('--format <format>', 'ground-truth coordinate format: csv (default; keeps class names), star (RELION 4), relion5, copick, ndjson, ...', cliFormat)
    .option('--maps-dir <dir>', 'folder of <id>.mrc density maps (default <shared>/data/maps; $CRYOSAM_SHARED sets <shared>)')
    .option('--tilt-series', 'image from a simulated tilt series (projections with CTF, dose damage and noise, back-projected) instead of the Fourier wedge and band-pass; see below')
    .option('--tilt-step <deg>', 'degrees between tilts of the tilt series (default 3; implies --tilt-series)', parseNumber('expected degrees in (0, 90]', (v) => v > 0 && v <= 90))
    .option('--dose <e/Å²>', 'electron exposure per tilt in e⁻/Å² (default 3; 0 = no radiation damage; implies --tilt-series)', parseNumber('expected a number ≥ 0', (v) => v >= 0))
    .option('--phase-flip', 'CTF-correct each projection by phase flipping before back-projection (default: no correction; implies --tilt-series)')
    .option('-q, --quiet', 'no progress bars')
    .addHelpText('after', presetHelp)
    .action(async (outdir: string, opts: SimulateCliOptions) => {
      await checkOutputFolder(outdir);
      const config = await simulationConfigFromOptions(opts);
      const progress = createCliProgress(opts.quiet);
      const started = performance.now();
      let sim: Simulation;
      let files: SimulationFiles;
      try {
        sim = await simulateTomogram(config, { seed: opts.seed, mapsDir: opts.mapsDir, onProgress: progress.onProgress });
        files = await writeSimulation(sim, outdir, { format: opts.format });
      } finally {
        progress.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(formatSimulationSummary(sim, files, seconds));
      await writeRunReport(path.join(outdir, 'report.json'), {
        command: 'simulate',
        argv: process.argv.slice(2),
        mapsDir: opts.mapsDir ?? defaultMapsDir(),
        seed: sim.seed,
        seconds,
        classes: sim.classes,
        files,
      });
    });
}
