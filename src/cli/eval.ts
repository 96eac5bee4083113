/**
 * `cryosam eval`: scores picks against ground-truth coordinates (precision, recall, F1 per class
 * with optimal one-to-one matching) and, optionally, a predicted mask against a label volume
 * (Dice, IoU). Any supported coordinate format on both sides; third-party ground truth such as
 * DeepFinder's `class,x,y,z` CSV and int8 label volumes works as is.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { CryosamError } from '../errors.js';
import { cliFormat, readPicks, type CoordFormat } from '../io/coords/index.js';
import type { Pick } from '../io/coords/pick.js';
import { readMrc, readMrcHeader } from '../io/mrc/index.js';
import { combineScores, scorePicks, scorePicksByClass, type PickScore } from '../eval/score.js';
import { estimateClassRadii, segmentationScore, type SegmentationScore } from '../eval/segmentation.js';
import { meanVoxelSize, type Shape3, type Volume } from '../volume/volume.js';
import { createCliProgress } from './progress.js';
import { writeRunReport } from '../io/report.js';
import { checkOutputs } from '../io/files.js';

export interface EvalOptions {
  picks?: string;
  truth?: string;
  picksFormat?: CoordFormat;
  truthFormat?: CoordFormat;
  tomogram?: string;
  voxelSize?: number;
  distance?: number;
  distanceAngstrom?: number;
  class?: string;
  truthClass?: string;
  mask?: string;
  labels?: string;
  label?: number;
}

export interface ClassRow extends Omit<PickScore, 'matches'> {
  className: string;
  truthCount: number;
  pickCount: number;
  /** Match distance used, in voxels. */
  distanceVoxels: number | null;
}

export interface EvalResult {
  voxelSize: number | null;
  /** Where the match distance came from. */
  distanceSource: 'voxels' | 'angstrom' | 'labels' | null;
  classes: ClassRow[];
  overall: ClassRow | null;
  segmentation: (SegmentationScore & { label: number | null }) | null;
}

const OVERALL = 'overall';

export async function evaluate(opts: EvalOptions): Promise<EvalResult> {
  if (!opts.picks && !opts.mask) throw new CryosamError('nothing to evaluate: give --picks and --truth, or --mask and --labels');
  if (opts.picks && !opts.truth) throw new CryosamError('--picks needs --truth (the ground-truth coordinates)');
  if (opts.mask && !opts.labels) throw new CryosamError('--mask needs --labels (the ground-truth label volume)');
  if (opts.distance !== undefined && opts.distanceAngstrom !== undefined) {
    throw new CryosamError('give either --distance (voxels) or --distance-angstrom (Å), not both');
  }

  const tomogramHeader = opts.tomogram ? await readMrcHeader(opts.tomogram) : undefined;
  const labels = opts.labels ? await readMrc(opts.labels) : undefined;
  const voxelSize = opts.voxelSize ?? positiveOrUndefined(tomogramHeader && meanVoxelSize(tomogramHeader.voxelSize)) ??
    positiveOrUndefined(labels && meanVoxelSize(labels.voxelSize));
  const shape: Shape3 | undefined = tomogramHeader?.shape ?? labels?.shape;

  const result: EvalResult = { voxelSize: voxelSize ?? null, distanceSource: null, classes: [], overall: null, segmentation: null };
  if (opts.picks && opts.truth) {
    if (voxelSize === undefined && opts.distanceAngstrom !== undefined) {
      throw new CryosamError('--distance-angstrom needs the voxel size: give --voxel-size or --tomogram', opts.truth);
    }
    // Coordinates in voxels (most formats) do not depend on the voxel size; formats in Å do, and
    // without one they are read at 1 Å/voxel, which the output states (voxelSize: null).
    const frame = { voxelSize: voxelSize ?? 1, shape };
    const allPicks = await readPicks(opts.picks, frame, { format: opts.picksFormat });
    // Picks without class names (e.g. from `cryosam pick`) all belong to the class being scored.
    const picks = allPicks.some((p) => p.className !== undefined) ? filterClass(allPicks, opts.class) : allPicks;
    const truthClass = opts.truthClass ?? opts.class;
    const truth = filterClass(await readPicks(opts.truth, frame, { format: opts.truthFormat }), truthClass);
    if (truthClass !== undefined && truth.length === 0) {
      throw new CryosamError(`no ground-truth particle has class '${truthClass}'`, opts.truth);
    }
    const distance = matchDistance(opts, voxelSize, labels);
    result.distanceSource = distance.source;
    scoreCoordinates(picks, truth, opts, distance.radius, result);
  }
  if (opts.mask && labels) result.segmentation = await scoreMask(opts.mask, labels, opts.label);
  return result;
}

function positiveOrUndefined(v: number | undefined): number | undefined {
  return v !== undefined && v > 0 ? v : undefined;
}

function filterClass(picks: Pick[], name: string | undefined): Pick[] {
  return name === undefined ? picks : picks.filter((p) => p.className === name);
}

/** The match distance in voxels: one number, or per class from the label volume's particle sizes. */
function matchDistance(
  opts: EvalOptions,
  voxelSize: number | undefined,
  labels: Volume | undefined,
): { radius: number | Record<string, number>; source: EvalResult['distanceSource'] } {
  if (opts.distance !== undefined) return { radius: opts.distance, source: 'voxels' };
  if (opts.distanceAngstrom !== undefined) return { radius: opts.distanceAngstrom / voxelSize!, source: 'angstrom' };
  if (labels) return { radius: estimateClassRadii(labels.data, labels.shape), source: 'labels' };
  throw new CryosamError(
    'no match distance: give --distance (voxels) or --distance-angstrom (Å), or --labels to use each class\'s particle radius',
  );
}

function scoreCoordinates(
  picks: Pick[],
  truth: Pick[],
  opts: EvalOptions,
  radius: number | Record<string, number>,
  result: EvalResult,
): void {
  const radiusOf = (name: string): number | undefined => (typeof radius === 'number' ? radius : radius[name]);
  const row = (className: string, s: PickScore, truthCount: number, pickCount: number, d: number | undefined): ClassRow => {
    const { matches: _matches, ...counts } = s;
    return { className, ...counts, truthCount, pickCount, distanceVoxels: d ?? null };
  };
  // Per class when the picks say which class they are; otherwise all picks against all (selected) truth.
  const perClass = opts.class === undefined && opts.truthClass === undefined && picks.some((p) => p.className !== undefined);
  if (perClass) {
    const byClass = scorePicksByClass(picks, truth, radius);
    for (const [name, s] of Object.entries(byClass)) {
      const count = (list: Pick[]) => list.filter((p) => (p.className ?? '') === name).length;
      result.classes.push(row(name, s, count(truth), count(picks), radiusOf(name)));
    }
    result.overall = row(OVERALL, combineScores(Object.values(byClass)), truth.length, picks.length, undefined);
    return;
  }
  const truthClasses = new Set(truth.map((p) => p.className ?? ''));
  const name = truthClasses.size === 1 ? [...truthClasses][0] : 'all';
  const d = radiusOf(name);
  if (d === undefined) {
    throw new CryosamError(
      'the label volume gives one radius per class: choose the class with --class or --truth-class, or give --distance',
      opts.truth,
    );
  }
  const s = scorePicks(picks, truth, d);
  result.classes.push(row(name, s, truth.length, picks.length, d));
  result.overall = row(OVERALL, s, truth.length, picks.length, d);
}

async function scoreMask(
  maskPath: string,
  labels: Volume,
  label: number | undefined,
): Promise<SegmentationScore & { label: number | null }> {
  const mask = await readMrc(maskPath);
  if (mask.shape.some((n, a) => n !== labels.shape[a])) {
    throw new CryosamError(
      `mask is ${mask.shape.join('×')} voxels (z×y×x) but the label volume is ${labels.shape.join('×')}`,
      maskPath,
    );
  }
  return { ...segmentationScore(mask.data, labels.data, { truthLabel: label }), label: label ?? null };
}

function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

export function formatEval(r: EvalResult): string {
  const lines: string[] = [];
  if (r.classes.length > 0) {
    const header = ['class', 'truth', 'picks', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1', 'dist(vox)', 'max(vox)'];
    const rows = [...r.classes, ...(r.classes.length > 1 && r.overall ? [r.overall] : [])].map((c) => [
      c.className === '' ? '(none)' : c.className,
      String(c.truthCount),
      String(c.pickCount),
      String(c.tp),
      String(c.fp),
      String(c.fn),
      fixed(c.precision, 3),
      fixed(c.recall, 3),
      fixed(c.f1, 3),
      fixed(c.meanDistance, 2),
      c.distanceVoxels === null ? 'per class' : fixed(c.distanceVoxels, 2),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    lines.push(format(header), ...rows.map(format));
    lines.push(
      `voxel size: ${r.voxelSize === null ? 'unknown (coordinates read at 1 Å/voxel)' : `${r.voxelSize} Å`}; ` +
        `match distance from ${r.distanceSource === 'labels' ? 'the label volume (equivalent-sphere radius per class)' : r.distanceSource === 'angstrom' ? 'Å' : 'voxels'}`,
    );
  }
  if (r.segmentation) {
    const s = r.segmentation;
    lines.push(
      `segmentation${s.label === null ? '' : ` (label ${s.label})`}: Dice ${fixed(s.dice, 4)}  IoU ${fixed(s.iou, 4)}  ` +
        `TP ${s.tp}  FP ${s.fp}  FN ${s.fn} voxels`,
    );
  }
  return lines.join('\n') + '\n';
}

function number(what: string, { positive = false, integer = false } = {}) {
  return (text: string): number => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || (positive ? v <= 0 : v < 0) || (integer && !Number.isInteger(v))) {
      throw new InvalidArgumentError(`${what} must be ${integer ? 'a whole number' : 'a number'} ${positive ? '> 0' : '≥ 0'}, got '${text}'`);
    }
    return v;
  };
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      'Score picks against ground truth: precision, recall and F1 per class, matching each pick to at most one ' +
        'particle (optimal one-to-one assignment: most matches, then least total distance) within a distance; ' +
        'and/or a predicted mask against a label volume (Dice, IoU). Every pick counts, prompted ones included.',
    )
    .option('--picks <file>', 'picks to score (any supported coordinate format: CSV, STAR, copick JSON, IMOD .mod, ...)')
    .option('--truth <file>', 'ground-truth particle coordinates (any supported format, e.g. DeepFinder class,x,y,z CSV)')
    .option('--picks-format <format>', 'format of --picks when the extension and content do not tell (relion4, csv, copick, ...)', cliFormat)
    .option('--truth-format <format>', 'format of --truth, likewise', cliFormat)
    .option('--tomogram <mrc>', 'the tomogram the coordinates belong to: its header gives the voxel size (Å) and shape')
    .option('--voxel-size <Å>', 'voxel size in Å, overriding the headers (needed for Å-based formats)', number('voxel size', { positive: true }))
    .option('--distance <voxels>', 'match distance in voxels (default: each class\'s particle radius from --labels)', number('distance'))
    .option('--distance-angstrom <Å>', 'match distance in Å (converted with the voxel size)', number('distance'))
    .option('--class <name>', 'score only this class (e.g. 4v7r, or a DeepFinder class number); picks without class names all count as this class')
    .option('--truth-class <name>', 'the ground-truth class to score against, when it is named differently from --class')
    .option('--mask <mrc>', 'predicted mask or instance volume to score voxel-wise (non-zero = inside)')
    .option('--labels <mrc>', 'ground-truth label volume (0 = background); also gives particle radii per class')
    .option('--label <k>', 'with --mask: the label value of the class to compare with (default: any non-zero label)', number('label', { integer: true }))
    .option('--json', 'print one JSON object (per-class scores, overall, segmentation) instead of a table')
    .option('--report <file>', 'also write a JSON run report (inputs, options, scores, time, peak memory) to this file')
    .option('-q, --quiet', 'no progress output')
    .action(async (opts: EvalOptions & { json?: boolean; report?: string; quiet?: boolean }) => {
      await checkOutputs([opts.report], [opts.picks, opts.truth, opts.tomogram, opts.mask, opts.labels]);
      const progress = createCliProgress(opts.quiet);
      const started = performance.now();
      let result: EvalResult;
      try {
        progress.onProgress({ stage: 'scoring', done: 0, total: 1 });
        result = await evaluate(opts);
        progress.onProgress({ stage: 'scoring', done: 1, total: 1 });
      } finally {
        progress.stop();
      }
      process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + '\n' : formatEval(result));
      if (opts.report) {
        const { json: _json, report: _report, quiet: _quiet, ...inputs } = opts;
        await writeRunReport(opts.report, {
          command: 'eval',
          argv: process.argv.slice(2),
          options: inputs,
          seconds: (performance.now() - started) / 1000,
          result,
        });
      }
    });
}
