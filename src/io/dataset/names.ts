/**
 * Distinct tomogram names for a dataset. A name becomes an output file stem (OUT/<name>.star) and
 * the rlnTomoName written into it, so no two may be equal, compared without case (two outputs
 * TS_01.star and ts_01.star are one file on macOS and Windows).
 *
 * - Names a dataset file gives (rlnTomoName, copick run) are kept as they are: other files refer
 *   to them. Two equal ones are an error.
 * - A plain path is named by tomogramName(path). When several share a name (or one equals a kept
 *   name), each of them is prefixed with its k nearest parent folder names, joined with '_', for
 *   the smallest k that makes them distinct: TS_01/tomogram.mrc and TS_02/tomogram.mrc become
 *   TS_01_tomogram and TS_02_tomogram. Files in one folder that differ only by extension
 *   (TS_01.mrc, TS_01.rec) keep it, as TS_01_mrc and TS_01_rec.
 *
 * The result depends only on the set of files, never on the order they were given in. Adding a
 * file to a dataset can change the names of others that then share its name.
 */
import path from 'node:path';
import { CryosamError } from '../../errors.js';
import { tomogramName } from '../tomogram-name.js';
import type { Candidate } from './candidate.js';
import { comparePaths } from './glob.js';

const key = (name: string) => name.toLowerCase();

/** Each candidate with its distinct name, sorted by name. */
export function assignNames(candidates: readonly Candidate[]): { candidate: Candidate; name: string }[] {
  const out: { candidate: Candidate; name: string }[] = [];
  const taken = new Map<string, Candidate>();

  for (const c of candidates) {
    if (c.name === undefined) continue;
    const other = taken.get(key(c.name));
    if (other) {
      const same = other.name === c.name ? `"${c.name}"` : `"${other.name}" and "${c.name}"`;
      throw new CryosamError(
        `two different tomograms are named ${same} (${other.where}: ${other.path}; ${c.where}: ${c.path}); ` +
          'each output is named after its tomogram, so names must differ (also in case)',
      );
    }
    taken.set(key(c.name), c);
    out.push({ candidate: c, name: c.name });
  }

  const groups = new Map<string, Candidate[]>();
  for (const c of [...candidates].filter((c) => c.name === undefined).sort((a, b) => comparePaths(a.path, b.path))) {
    const k = key(tomogramName(c.path));
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const colliding: Candidate[][] = [];
  for (const [k, group] of groups) {
    if (group.length > 1 || taken.has(k)) {
      colliding.push(group);
    } else {
      taken.set(k, group[0]);
      out.push({ candidate: group[0], name: tomogramName(group[0].path) });
    }
  }

  for (const group of colliding.sort((a, b) => comparePaths(key(tomogramName(a[0].path)), key(tomogramName(b[0].path))))) {
    const parents = group.map((c) => path.dirname(c.path).split(path.sep).filter((s) => s !== ''));
    const leaves = group.map((c, i) => {
      const sharesFolder = group.some((o, j) => j !== i && path.dirname(o.path) === path.dirname(c.path));
      return sharesFolder ? path.basename(c.path).replace(/\./g, '_') : tomogramName(c.path);
    });
    const depth = Math.max(...parents.map((p) => p.length));
    let names: string[] | undefined;
    for (let k = 0; k <= depth && !names; k++) {
      const tryNames = group.map((_, i) => [...parents[i].slice(Math.max(0, parents[i].length - k)), leaves[i]].join('_'));
      const keys = tryNames.map(key);
      if (new Set(keys).size === keys.length && !keys.some((n) => taken.has(n))) names = tryNames;
    }
    // Unreachable for real paths (full folder paths plus file names differ); kept total.
    names ??= leaves.map((leaf, i) => {
      let n = 2;
      while (taken.has(key(`${leaf}_${n}`))) n++;
      taken.set(key(`${leaf}_${n}`), group[i]);
      return `${leaf}_${n}`;
    });
    group.forEach((c, i) => {
      taken.set(key(names![i]), c);
      out.push({ candidate: c, name: names![i] });
    });
  }
  return out.sort((a, b) => comparePaths(a.name, b.name) || comparePaths(a.candidate.path, b.candidate.path));
}
