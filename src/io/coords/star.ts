import { CryosamError } from '../../errors.js';

/**
 * STAR files (RELION, STOPGAP, TomoMan): a sequence of `data_NAME` blocks, each holding key-value
 * pairs (`_label value`) and `loop_` tables (labels, then values filling rows in order). `#` starts
 * a comment (so RELION's `_rlnCoordinateX #5` numbering is skipped), values may be quoted with
 * ' or " (the closing quote must be followed by white space) or be `;` text fields spanning lines.
 */

/** One table: a loop, or the key-value pairs of a block read as a single row. Labels without '_'. */
export interface StarTable {
  block: string;
  columns: string[];
  rows: string[][];
  /** 1-based line of each row's first value, for error messages. */
  lines: number[];
}

interface Token {
  text: string;
  line: number;
  /** Quoted values are never keywords, even when they read "loop_" or start with '_'. */
  quoted: boolean;
}

function* tokenize(text: string, file: string | undefined): Generator<Token> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith(';')) {
      // Text field: everything up to the next line starting with ';' is one value.
      const start = i;
      const parts = [line.slice(1)];
      for (i++; i < lines.length && !lines[i].startsWith(';'); i++) parts.push(lines[i]);
      if (i >= lines.length) throw new CryosamError(`line ${start + 1}: text field starting with ';' is never closed`, file);
      yield { text: parts.join('\n').trim(), line: start + 1, quoted: true };
      continue;
    }
    let pos = 0;
    while (pos < line.length) {
      const c = line[pos];
      if (c === ' ' || c === '\t') {
        pos++;
      } else if (c === '#') {
        break;
      } else if (c === '"' || c === "'") {
        let end = pos + 1;
        while (end < line.length && !(line[end] === c && (end + 1 === line.length || /\s/.test(line[end + 1])))) end++;
        if (end >= line.length) throw new CryosamError(`line ${i + 1}: unclosed quote`, file);
        yield { text: line.slice(pos + 1, end), line: i + 1, quoted: true };
        pos = end + 1;
      } else {
        let end = pos;
        while (end < line.length && line[end] !== ' ' && line[end] !== '\t') end++;
        yield { text: line.slice(pos, end), line: i + 1, quoted: false };
        pos = end;
      }
    }
  }
}

function isKeyword(t: Token): boolean {
  return (
    !t.quoted &&
    (t.text.startsWith('_') || t.text.startsWith('data_') || t.text === 'loop_' || t.text === 'global_' || t.text.startsWith('save_'))
  );
}

/** Parses every table of every block, in file order. */
export function parseStar(text: string, file?: string): StarTable[] {
  const tables: StarTable[] = [];
  const stream = tokenize(text, file);
  let lookahead: Token | undefined;
  const next = (): Token | undefined => {
    if (lookahead) {
      const t = lookahead;
      lookahead = undefined;
      return t;
    }
    const r = stream.next();
    return r.done ? undefined : r.value;
  };
  const peek = (): Token | undefined => (lookahead ??= next());

  let block: string | undefined;
  let pairs: StarTable | undefined;
  const inBlock = (t: Token): string => {
    if (block === undefined) throw new CryosamError(`line ${t.line}: "${t.text}" before the first data_ block`, file);
    return block;
  };

  for (let t = next(); t; t = next()) {
    if (!t.quoted && (t.text.startsWith('data_') || t.text === 'global_')) {
      block = t.text.startsWith('data_') ? t.text.slice(5) : 'global';
      pairs = undefined;
    } else if (!t.quoted && t.text.startsWith('save_')) {
      throw new CryosamError(`line ${t.line}: save frames are not supported`, file);
    } else if (!t.quoted && t.text === 'loop_') {
      const table: StarTable = { block: inBlock(t), columns: [], rows: [], lines: [] };
      for (let h = peek(); h && !h.quoted && h.text.startsWith('_'); h = peek()) {
        table.columns.push(next()!.text.slice(1));
      }
      if (table.columns.length === 0) throw new CryosamError(`line ${t.line}: loop_ without column labels`, file);
      let row: string[] = [];
      let rowLine = 0;
      for (let v = peek(); v && !isKeyword(v); v = peek()) {
        next();
        if (row.length === 0) rowLine = v.line;
        row.push(v.text);
        if (row.length === table.columns.length) {
          table.rows.push(row);
          table.lines.push(rowLine);
          row = [];
        }
      }
      if (row.length > 0) {
        throw new CryosamError(
          `line ${rowLine}: row has ${row.length} values but the loop has ${table.columns.length} columns`,
          file,
        );
      }
      tables.push(table);
    } else if (!t.quoted && t.text.startsWith('_')) {
      const name = inBlock(t);
      const value = next();
      if (!value || isKeyword(value)) throw new CryosamError(`line ${t.line}: ${t.text} has no value`, file);
      if (!pairs) {
        pairs = { block: name, columns: [], rows: [[]], lines: [t.line] };
        tables.push(pairs);
      }
      pairs.columns.push(t.text.slice(1));
      pairs.rows[0].push(value.text);
    } else {
      throw new CryosamError(`line ${t.line}: unexpected value "${t.text}" outside a loop`, file);
    }
  }
  return tables;
}

/** Quotes a value when STAR readers would otherwise split it or take it for a keyword or comment. */
function starValue(value: string): string {
  if (value !== '' && !/[\s"']/.test(value) && !/^(_|#|data_|loop_|save_|global_|;)/.test(value)) return value;
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  throw new CryosamError(`cannot write a STAR value holding both quote characters: ${value}`);
}

/** One `data_<block>` with one loop, with RELION's `_label #n` numbering and a row per line. */
export function formatStarLoop(block: string, columns: readonly string[], rows: readonly (readonly string[])[]): string {
  const out = ['', '# written by cryosam', '', `data_${block}`, '', 'loop_'];
  columns.forEach((c, i) => out.push(`_${c} #${i + 1}`));
  for (const row of rows) out.push(row.map(starValue).join('\t'));
  out.push('', '');
  return out.join('\n');
}
