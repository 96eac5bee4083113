import { CryosamError } from '../../errors.js';

/** Decimal numbers as coordinate files write them; rejects '', hex, 'Infinity' and trailing junk. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses one numeric field, or throws an error naming the file, line and column. */
export function parseNumber(token: string, file: string | undefined, line: number, column: string): number {
  if (!DECIMAL.test(token)) {
    throw new CryosamError(`line ${line}: ${column} "${token}" is not a number`, file);
  }
  return Number(token);
}

/** Integer fields (instance ids, tomogram numbers). */
export function parseInteger(token: string, file: string | undefined, line: number, column: string): number {
  const value = parseNumber(token, file, line, column);
  if (!Number.isInteger(value)) {
    throw new CryosamError(`line ${line}: ${column} "${token}" is not an integer`, file);
  }
  return value;
}

/** Shortest text for a value rounded to 1e-6: exact enough for sub-voxel positions, no float noise. */
export function formatNumber(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}

/** True for class names such as "3" that RELION and STOPGAP can store in their integer class columns. */
export function isIntegerText(text: string | undefined): text is string {
  return text !== undefined && /^[+-]?\d+$/.test(text);
}
