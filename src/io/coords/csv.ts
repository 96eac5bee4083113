import { CryosamError } from '../../errors.js';
import type { CoordFrame } from './frame.js';
import { makePick } from './make-pick.js';
import { formatNumber } from './numbers.js';
import type { Pick } from './pick.js';
import { type Table, TableReader } from './table.js';

/**
 * Delimited text tables (CSV, TSV, whitespace, '|' or ';'), one pick per row. With a header, the
 * columns are found by name (x/X/coord_x..., class/label, score, id/instance, tomo/run) and a
 * unit tag in the name ("X [A]", "x_angst") marks Å, converted with the tomogram's voxel size;
 * untagged positions are voxels. Without a header the first three fields are x, y, z in voxels
 * (further fields are ignored, as the CZ cryoET Data Portal reads such files), unless the first
 * field looks like a class label: that is an error asking for a header. '#' lines are comments.
 *
 * TARDIS writes `IDs,X [A],Y [A],Z [A]`: instance id and Å positions, read by the same rules.
 */

const AXIS_KEYS = (a: string) => [a, `coord${a}`, `coordinate${a}`, `pos${a}`, `position${a}`, `location${a}`, `center${a}`, `centre${a}`, `${a}coord`, `rlncoordinate${a}`];
const FIELDS = {
  x: AXIS_KEYS('x'),
  y: AXIS_KEYS('y'),
  z: AXIS_KEYS('z'),
  className: ['class', 'classname', 'classid', 'label', 'object', 'objectname', 'pickableobjectname', 'name', 'type', 'particle'],
  score: ['score', 'confidence', 'probability', 'prob', 'cc', 'lcc', 'fom', 'similarity'],
  instanceId: ['id', 'ids', 'instance', 'instanceid', 'particleid'],
  tomoName: ['tomo', 'tomogram', 'tomoname', 'tomogramname', 'run', 'runname', 'micrograph', 'micrographname', 'rlntomoname'],
} as const;
type Field = keyof typeof FIELDS;

const ANGST_UNIT = /\[\s*(a|å|ang|angst|angstrom)s?\s*\]|\(\s*(a|å|ang|angst|angstrom)s?\s*\)|[_ ]?angst(rom)?s?$/i;

/** Lower-case name without unit tag and punctuation: "X [A]" → "x", "coord_x" → "coordx". */
function headerKey(name: string): string {
  return name
    .replace(/\[[^\]]*\]|\([^)]*\)/g, '')
    .replace(/[_ ]?angst(rom)?s?$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

type Delimiter = '\t' | ';' | ',' | '|' | 'whitespace';

function sniffDelimiter(line: string): Delimiter {
  for (const d of ['\t', ';', ',', '|'] as const) if (line.includes(d)) return d;
  return 'whitespace';
}

/** Splits one row; fields may be double-quoted (with "" for a quote) to hold the delimiter. */
function splitRow(line: string, delimiter: Delimiter): string[] {
  if (delimiter === 'whitespace') return line.trim().split(/\s+/);
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === delimiter) {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

const isNumeric = (cell: string) => /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(cell);

/**
 * Whether a headerless table's first field is more likely a class than x: integers repeated over
 * the rows (DeepFinder's class,x,y,z lists without their header) spanning under a quarter of the
 * range of each of the next three fields. Read as x, such files give plausible but wrong picks.
 */
function leadingClassColumn(rows: readonly string[][]): boolean {
  if (rows.length < 4 || rows[0].length < 4) return false;
  const column = (j: number) => rows.map((r) => Number(r[j]));
  const first = column(0);
  if (!first.every(Number.isInteger) || new Set(first).size * 2 > rows.length) return false;
  const range = (v: number[]) => v.reduce((m, x) => Math.max(m, x), -Infinity) - v.reduce((m, x) => Math.min(m, x), Infinity);
  return [1, 2, 3].every((j) => range(first) * 4 < range(column(j)));
}

export function parseCsv(text: string, frame: CoordFrame, file?: string): Pick[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const content: number[] = [];
  lines.forEach((l, i) => {
    if (l.trim() !== '' && !l.trimStart().startsWith('#')) content.push(i);
  });
  if (content.length === 0) return [];
  const delimiter = sniffDelimiter(lines[content[0]]);
  const first = splitRow(lines[content[0]], delimiter);
  const hasHeader = first.some((c) => !isNumeric(c));
  const table: Table = { columns: hasHeader ? first : first.map((_, i) => `field ${i + 1}`), rows: [], lines: [] };
  for (const i of content.slice(hasHeader ? 1 : 0)) {
    const cells = splitRow(lines[i], delimiter);
    // Tolerate trailing delimiters; anything else must match the first row.
    while (cells.length > table.columns.length && cells[cells.length - 1] === '') cells.pop();
    if (cells.length !== table.columns.length) {
      throw new CryosamError(`line ${i + 1}: ${cells.length} fields where the first row has ${table.columns.length}`, file);
    }
    table.rows.push(cells);
    table.lines.push(i + 1);
  }

  const col: Record<Field, number> = { x: 0, y: 1, z: 2, className: -1, score: -1, instanceId: -1, tomoName: -1 };
  const angst = { x: false, y: false, z: false };
  if (hasHeader) {
    const keys = first.map(headerKey);
    for (const field of Object.keys(FIELDS) as Field[]) {
      col[field] = keys.findIndex((k) => (FIELDS[field] as readonly string[]).includes(k));
    }
    const missing = (['x', 'y', 'z'] as const).filter((a) => col[a] < 0);
    if (missing.length > 0) {
      throw new CryosamError(`header lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (found: ${first.join(', ')})`, file);
    }
    for (const a of ['x', 'y', 'z'] as const) angst[a] = ANGST_UNIT.test(first[col[a]]);
  } else if (table.columns.length < 3) {
    throw new CryosamError(`line ${content[0] + 1}: need x, y, z fields, found ${table.columns.length}`, file);
  } else if (leadingClassColumn(table.rows)) {
    throw new CryosamError(
      'no header, and the first field looks like a class label (few repeated integers over a much smaller range than the next three fields) ' +
        'while a headerless table is read as x, y, z first: add a header line naming the columns (e.g. class,x,y,z)',
      file,
    );
  }

  const r = new TableReader(table, file);
  const scale = (a: 'x' | 'y' | 'z') => (angst[a] ? 1 / frame.voxelSize : 1);
  return table.rows.map((_, i) =>
    makePick(r.number(i, col.x) * scale('x'), r.number(i, col.y) * scale('y'), r.number(i, col.z) * scale('z'), {
      score: r.optionalNumber(i, col.score),
      className: r.optionalText(i, col.className),
      instanceId: r.optionalInteger(i, col.instanceId),
      tomoName: r.optionalText(i, col.tomoName),
    }),
  );
}

function csvCell(value: string, delimiter: string): string {
  return value.includes(delimiter) || value.includes('"') || value === '' ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Header `x,y,z` in voxels, then score, class, instance_id, tomo for whichever any pick has
 * (empty cells where a pick lacks one).
 */
export function formatCsv(
  picks: readonly Pick[],
  opts: { delimiter?: ',' | '\t'; tomoName?: string; objectName?: string } = {},
): string {
  const d = opts.delimiter ?? ',';
  const optional: [string, (p: Pick) => string | undefined][] = [
    ['score', (p) => (p.score === undefined ? undefined : formatNumber(p.score))],
    ['class', (p) => opts.objectName ?? p.className],
    ['instance_id', (p) => (p.instanceId === undefined ? undefined : String(p.instanceId))],
    ['tomo', (p) => opts.tomoName ?? p.tomoName],
    ['filament', (p) => (p.helicalTubeId === undefined ? undefined : String(p.helicalTubeId))],
    ['track_length_angst', (p) => (p.helicalTrackLengthA === undefined ? undefined : formatNumber(p.helicalTrackLengthA))],
  ];
  const used = optional.filter(([, get]) => picks.some((p) => get(p) !== undefined));
  const out = [['x', 'y', 'z', ...used.map(([name]) => name)].join(d)];
  for (const p of picks) {
    const extra = used.map(([, get]) => {
      const v = get(p);
      return v === undefined ? '' : csvCell(v, d);
    });
    out.push([formatNumber(p.x), formatNumber(p.y), formatNumber(p.z), ...extra].join(d));
  }
  return out.join('\n') + '\n';
}

/** TARDIS point clouds: instance id (the pick's, else its row number) and positions in Å. */
export function formatTardis(picks: readonly Pick[], frame: CoordFrame): string {
  const out = ['IDs,X [A],Y [A],Z [A]'];
  picks.forEach((p, i) => {
    const a = (v: number) => formatNumber(v * frame.voxelSize);
    out.push([String(p.instanceId ?? i), a(p.x), a(p.y), a(p.z)].join(','));
  });
  return out.join('\n') + '\n';
}
