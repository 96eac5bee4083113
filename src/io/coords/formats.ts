import path from 'node:path';
import { CryosamError } from '../../errors.js';
import { relionFlavour } from './relion.js';
import { parseStar } from './star.js';

export type CoordFormat = 'relion4' | 'relion3' | 'relion5' | 'stopgap' | 'tomoman' | 'copick' | 'ndjson' | 'csv' | 'tardis' | 'imod';

export const COORD_FORMATS: readonly CoordFormat[] = ['relion4', 'relion3', 'relion5', 'stopgap', 'tomoman', 'copick', 'ndjson', 'csv', 'tardis', 'imod'];

/** Everyday names accepted on the command line besides the format names themselves. */
const ALIASES: Readonly<Record<string, CoordFormat>> = {
  star: 'relion4',
  relion: 'relion4',
  json: 'copick',
  portal: 'ndjson',
  jsonl: 'ndjson',
  tsv: 'csv',
  txt: 'csv',
  mod: 'imod',
};

/** Maps a --format value to a format, with the list of valid names when it is unknown. */
export function cliFormat(name: string): CoordFormat {
  const key = name.trim().toLowerCase();
  const format = (COORD_FORMATS as readonly string[]).includes(key) ? (key as CoordFormat) : ALIASES[key];
  if (!format) {
    throw new CryosamError(`unknown coordinate format "${name}"; choose one of ${[...COORD_FORMATS, ...Object.keys(ALIASES)].join(', ')}`);
  }
  return format;
}

/** IMOD models are binary: recognised by their first bytes. */
export function isImodModel(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && String.fromCharCode(...bytes.subarray(0, 6)) === 'IMODV1';
}

/** Which STAR dialect the labels belong to; RELION 4 when no coordinate labels are there (its reader then names the missing ones). */
function starFormat(text: string, file: string): CoordFormat {
  const tables = parseStar(text, file);
  if (tables.some((t) => t.columns.includes('orig_x'))) return 'stopgap';
  return relionFlavour(tables) ?? 'relion4';
}

/** Portal lines carry a "type" and a "location"; copick files are one object with "points". */
function jsonFormat(text: string): CoordFormat {
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  try {
    const value: unknown = JSON.parse(first);
    if (typeof value === 'object' && value !== null && 'type' in value && 'location' in value) return 'ndjson';
  } catch {
    // A multi-line document: copick's pretty-printed JSON.
  }
  return 'copick';
}

const isTardisHeader = (text: string) => /^\s*IDs?\s*,\s*X\s*\[A\]/i.test(text);

/** The format of a coordinate file, by extension and, when the text is given, by its content. */
export function detectFormat(file: string, text?: string): CoordFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.mod' || text?.startsWith('IMODV1')) return 'imod';
  if (ext === '.star') return text === undefined ? 'relion4' : starFormat(text, file);
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.json') return text === undefined ? 'copick' : jsonFormat(text);
  if (['.csv', '.tsv', '.txt', '.coords'].includes(ext)) return text !== undefined && isTardisHeader(text) ? 'tardis' : 'csv';
  if (text === undefined) throw new CryosamError(`cannot tell the coordinate format from the extension "${ext}"; name the format`, file);
  const start = text.trimStart();
  if (start.startsWith('{')) return jsonFormat(text);
  if (/^\s*data_/m.test(text)) return starFormat(text, file);
  return isTardisHeader(text) ? 'tardis' : 'csv';
}

/** Output file extensions and the format each one writes. */
const OUTPUT_EXTENSIONS: Readonly<Record<string, CoordFormat>> = {
  '.star': 'relion4',
  '.json': 'copick',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.csv': 'csv',
  '.tsv': 'csv',
  '.txt': 'csv',
  '.mod': 'imod',
};

/** What --format takes and how the default follows the extension, for help texts. */
export const OUTPUT_FORMAT_HELP =
  `${COORD_FORMATS.join(', ')} (or star = relion4, json = copick); default from the output's extension: ` +
  Object.entries(OUTPUT_EXTENSIONS).map(([ext, f]) => `${ext} → ${f}`).join(', ') +
  '; any other extension needs --format';

/** The format an output file's extension asks for. */
export function formatFromExtension(file: string): CoordFormat {
  const ext = path.extname(file).toLowerCase();
  const format = OUTPUT_EXTENSIONS[ext];
  if (!format) {
    throw new CryosamError(
      `cannot tell the coordinate format from the extension "${ext}" (known: ${Object.keys(OUTPUT_EXTENSIONS).join(' ')}); name it with --format`,
      file,
    );
  }
  return format;
}
