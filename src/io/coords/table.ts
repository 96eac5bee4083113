import { CryosamError } from '../../errors.js';
import { isPlausiblePixelSize, PIXEL_SIZE_RULE } from '../pixel-size.js';
import type { Pick } from './pick.js';
import { parseInteger, parseNumber } from './numbers.js';

/** Rows of text cells under named columns: a STAR loop or a CSV file. */
export interface Table {
  columns: string[];
  rows: string[][];
  /** 1-based source line of each row. */
  lines: number[];
}

/** Typed access to the cells of a table, with errors that name the file, line and column. */
export class TableReader {
  constructor(
    readonly table: Table,
    readonly file?: string,
  ) {}

  /** Index of the first of `names` present, or -1. */
  column(...names: string[]): number {
    for (const name of names) {
      const i = this.table.columns.indexOf(name);
      if (i >= 0) return i;
    }
    return -1;
  }

  number(row: number, col: number): number {
    return parseNumber(this.table.rows[row][col], this.file, this.table.lines[row], this.table.columns[col]);
  }

  /** A pixel size in Å (e.g. rlnTomoTiltSeriesPixelSize); throws naming the file, line and column unless it is plausible. */
  pixelSize(row: number, col: number): number {
    const value = this.number(row, col);
    if (!isPlausiblePixelSize(value)) {
      throw new CryosamError(
        `line ${this.table.lines[row]}: ${this.table.columns[col]} ${this.table.rows[row][col]} is not a usable pixel size: it ${PIXEL_SIZE_RULE}`,
        this.file,
      );
    }
    return value;
  }

  /** Empty cells and absent columns (col < 0) read as undefined. */
  optionalNumber(row: number, col: number): number | undefined {
    return col < 0 || this.table.rows[row][col] === '' ? undefined : this.number(row, col);
  }

  optionalInteger(row: number, col: number): number | undefined {
    const cell = col < 0 ? '' : this.table.rows[row][col];
    return cell === '' ? undefined : parseInteger(cell, this.file, this.table.lines[row], this.table.columns[col]);
  }

  optionalText(row: number, col: number): string | undefined {
    return col < 0 || this.table.rows[row][col] === '' ? undefined : this.table.rows[row][col];
  }
}

/** Throws naming the file and each column of `required` that the table lacks. */
export function requireColumns(columns: readonly string[], required: readonly string[], file: string | undefined, what: string): void {
  const missing = required.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new CryosamError(`${what} lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, file);
  }
}

/**
 * The value every pick writes in an optional column, or undefined when the column is left out.
 * A column is written only when every pick has a value: these formats have no "missing" cell.
 */
export function columnValues<T>(picks: readonly Pick[], get: (p: Pick) => T | undefined): T[] | undefined {
  const values: T[] = [];
  for (const p of picks) {
    const v = get(p);
    if (v === undefined) return undefined;
    values.push(v);
  }
  return values;
}
