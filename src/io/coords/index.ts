import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CryosamError } from '../../errors.js';
import { writeFileAtomic } from '../atomic.js';
import { requireInputFile } from '../files.js';
import { tomogramName } from '../tomogram-name.js';
import { formatCopick, parseCopick } from './copick.js';
import { formatCsv, formatTardis, parseCsv } from './csv.js';
import { type CoordFormat, detectFormat, formatFromExtension, isImodModel } from './formats.js';
import { type CoordFrame, checkFrame } from './frame.js';
import { formatImod, parseImod } from './imod.js';
import { formatNdjson, parseNdjson } from './ndjson.js';
import type { Pick } from './pick.js';
import { formatRelion, parseRelion } from './relion.js';
import { formatStopgap, parseStopgap } from './stopgap.js';

export type { Pick } from './pick.js';
export type { CoordFrame } from './frame.js';
export { type CoordFormat, COORD_FORMATS, cliFormat, detectFormat } from './formats.js';
export { checkPicksInside } from './inside.js';

/** Keeps the picks of one tomogram (names compared by tomogramName); files without tomogram names are taken to hold only one. */
function onlyTomogram(picks: Pick[], tomoName: string, file?: string): Pick[] {
  if (!picks.some((p) => p.tomoName !== undefined)) return picks;
  const key = tomogramName(tomoName);
  const kept = picks.filter((p) => p.tomoName !== undefined && tomogramName(p.tomoName) === key);
  if (kept.length === 0) {
    const names = [...new Set(picks.map((p) => p.tomoName).filter((n) => n !== undefined))];
    throw new CryosamError(`no picks for tomogram "${tomoName}"; the file has ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}`, file);
  }
  return kept;
}

/** Converts a coordinate file's content to picks in the tomogram's voxels. */
export function parsePicks(
  text: string | Uint8Array,
  frame: CoordFrame,
  opts: { format: CoordFormat; file?: string; tomoName?: string },
): Pick[] {
  const { format, file } = opts;
  checkFrame(frame, file);
  let picks: Pick[];
  if (format === 'imod') {
    if (typeof text === 'string') throw new CryosamError('IMOD models are binary: pass the file bytes, not text', file);
    picks = parseImod(text, file);
  } else {
    const content = typeof text === 'string' ? text : new TextDecoder().decode(text);
    switch (format) {
      case 'relion3':
      case 'relion4':
      case 'relion5':
      case 'tomoman':
        picks = parseRelion(content, frame, format, file);
        break;
      case 'stopgap':
        picks = parseStopgap(content, file);
        break;
      case 'copick':
        picks = parseCopick(content, frame, file);
        break;
      case 'ndjson':
        picks = parseNdjson(content, file);
        break;
      case 'csv':
      case 'tardis':
        picks = parseCsv(content, frame, file);
        break;
    }
  }
  return opts.tomoName === undefined ? picks : onlyTomogram(picks, opts.tomoName, file);
}

export interface FormatOptions {
  format: CoordFormat;
  /** Tomogram name written for every pick (RELION rlnTomoName, copick run_name, ...). */
  tomoName?: string;
  /** Class or object name written for every pick (copick pickable_object_name, IMOD object, ...). */
  objectName?: string;
  /** CSV field separator; tab for .tsv files. */
  delimiter?: ',' | '\t';
}

/** Picks as the content of a coordinate file: text, or bytes for IMOD models. */
export function formatPicks(picks: Pick[], frame: CoordFrame, opts: FormatOptions): string | Uint8Array {
  checkFrame(frame);
  switch (opts.format) {
    case 'relion3':
    case 'relion4':
    case 'relion5':
    case 'tomoman':
      return formatRelion(picks, frame, opts.format, opts);
    case 'stopgap':
      return formatStopgap(picks, opts);
    case 'copick':
      return formatCopick(picks, frame, opts);
    case 'ndjson':
      return formatNdjson(picks);
    case 'csv':
      return formatCsv(picks, opts);
    case 'tardis':
      return formatTardis(picks, frame);
    case 'imod':
      return formatImod(picks, frame, opts);
  }
}

/** Reads a coordinate file; the format comes from the extension and content unless given. */
export async function readPicks(
  file: string,
  frame: CoordFrame,
  opts: { format?: CoordFormat; tomoName?: string } = {},
): Promise<Pick[]> {
  // Stat first: reading a FIFO would block forever, a folder cannot be read.
  await requireInputFile(file);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new CryosamError(`cannot read coordinate file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file);
  }
  const binary = opts.format === 'imod' || (opts.format === undefined && isImodModel(bytes));
  const text = binary ? undefined : new TextDecoder().decode(bytes);
  const format = opts.format ?? (binary ? 'imod' : detectFormat(file, text));
  return parsePicks(text ?? bytes, frame, { format, file, tomoName: opts.tomoName });
}

/**
 * Writes picks atomically; the format comes from the extension unless given (.star → relion4,
 * .json → copick, .ndjson, .csv/.tsv/.txt → csv, .mod → imod).
 */
export async function writePicks(
  file: string,
  picks: Pick[],
  frame: CoordFrame,
  opts: { format?: CoordFormat; tomoName?: string; objectName?: string } = {},
): Promise<void> {
  const format = opts.format ?? formatFromExtension(file);
  let content: string | Uint8Array;
  try {
    content = formatPicks(picks, frame, {
      ...opts,
      format,
      delimiter: path.extname(file).toLowerCase() === '.tsv' ? '\t' : ',',
    });
  } catch (err) {
    // Name the output file in errors raised while formatting.
    if (err instanceof CryosamError && err.file === undefined) throw new CryosamError(err.message, file, err.exitCode);
    throw err;
  }
  await writeFileAtomic(file, content);
}
