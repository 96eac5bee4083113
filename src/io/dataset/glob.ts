/**
 * Shell-style globs for tomogram lists given in quotes (`'tomos/**\/*.mrc'`), on every Node 20
 * (path.matchesGlob and fs.glob came in later minor versions). Per path segment: `*` any run of
 * characters, `?` one character, `[abc]` `[a-z]` `[!abc]` `[^abc]` one of (or none of) a set;
 * `**` as a whole segment is zero or more folders. As in shells, a wildcard never matches a name
 * starting with '.' unless the pattern segment itself starts with '.', `**` does not descend into
 * hidden folders, and it does not follow symbolic links to folders (no cycles). No brace expansion.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** True when `text` holds a glob wildcard (`*`, `?` or a `[...]` set). */
export function isGlob(text: string): boolean {
  return /[*?]|\[[^\]]*\]/.test(text);
}

/** The regular expression for one path segment of a glob (no '/' inside). */
export function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') {
      re += '.*';
    } else if (c === '?') {
      re += '.';
    } else if (c === '[') {
      const end = segment.indexOf(']', i + 2); // a ']' right after '[' (or '[!') is a member
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else {
      re += c.replace(/[.+^${}()|\\\]]/g, (m) => `\\${m}`);
    }
  }
  return new RegExp(`^${re}$`, 's');
}

function matchesSegment(name: string, segment: string, re: RegExp): boolean {
  if (name.startsWith('.') && !segment.startsWith('.')) return false;
  return re.test(name);
}

async function entries(dir: string) {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return []; // not a folder, gone, or unreadable: nothing matches below it
  }
}

/**
 * Absolute paths of everything `pattern` matches (files, folders, anything), relative patterns
 * taken from `cwd`, sorted and without duplicates. A pattern without wildcards gives itself when
 * it exists.
 */
export async function expandGlob(pattern: string, cwd: string): Promise<string[]> {
  const absolute = path.resolve(cwd, pattern);
  const { root } = path.parse(absolute);
  const segments = absolute.slice(root.length).split(path.sep).filter((s) => s !== '');
  const found = new Set<string>();

  const walk = async (dir: string, i: number): Promise<void> => {
    if (i === segments.length) {
      if (await fs.lstat(dir).then(() => true, () => false)) found.add(dir);
      return;
    }
    const segment = segments[i];
    if (segment === '**') {
      await walk(dir, i + 1);
      for (const e of await entries(dir)) {
        if (e.isDirectory() && !e.name.startsWith('.')) await walk(path.join(dir, e.name), i);
      }
    } else if (!isGlob(segment)) {
      await walk(path.join(dir, segment), i + 1);
    } else {
      const re = segmentRegExp(segment);
      for (const e of await entries(dir)) {
        if (matchesSegment(e.name, segment, re)) await walk(path.join(dir, e.name), i + 1);
      }
    }
  };
  await walk(root, 0);
  return [...found].sort(comparePaths);
}

/** Code-unit order: the same on every machine and locale. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
