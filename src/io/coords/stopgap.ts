import { CryosamError } from '../../errors.js';
import { makePick } from './make-pick.js';
import { formatNumber, isIntegerText } from './numbers.js';
import type { Pick } from './pick.js';
import { formatStarLoop, parseStar } from './star.js';
import { requireColumns, TableReader } from './table.js';

/**
 * STOPGAP motivelists (`data_stopgap_motivelist`): `orig_x/y/z` are voxel positions in the
 * tomogram the particles were picked in (so the frame's voxel size plays no part), refined by the
 * sub-voxel `x/y/z_shift`: position = orig + shift, read as 0-based voxel indices the way the
 * CZ cryoET Data Portal ingests STOPGAP files. Tomograms are numbered (`tomo_num`); `score`,
 * `class` and `subtomo_num` (instance id) come along.
 */
const ORIG = ['orig_x', 'orig_y', 'orig_z'] as const;
const SHIFT = ['x_shift', 'y_shift', 'z_shift'] as const;

export function parseStopgap(text: string, file?: string): Pick[] {
  const tables = parseStar(text, file).filter((t) => t.columns.some((c) => ORIG.includes(c as (typeof ORIG)[number])));
  if (tables.length === 0) requireColumns([], ORIG, file, 'STOPGAP motivelist');
  const picks: Pick[] = [];
  for (const table of tables) {
    requireColumns(table.columns, ORIG, file, 'STOPGAP motivelist');
    const r = new TableReader(table, file);
    const orig = ORIG.map((c) => r.column(c));
    const shift = SHIFT.map((c) => r.column(c));
    const [tomo, score, cls, subtomo] = ['tomo_num', 'score', 'class', 'subtomo_num'].map((c) => r.column(c));
    for (let i = 0; i < table.rows.length; i++) {
      const [x, y, z] = orig.map((c, a) => r.number(i, c) + (r.optionalNumber(i, shift[a]) ?? 0));
      picks.push(
        makePick(x, y, z, {
          score: r.optionalNumber(i, score),
          className: r.optionalText(i, cls),
          instanceId: r.optionalInteger(i, subtomo),
          tomoName: r.optionalText(i, tomo),
        }),
      );
    }
  }
  return picks;
}

/**
 * Writes integer `orig` voxels with the remainder as shifts, as STOPGAP keeps them. Tomograms
 * must be named by number (default 1); non-integer class names become class 1.
 */
export function formatStopgap(picks: readonly Pick[], opts: { tomoName?: string; objectName?: string } = {}): string {
  const columns = ['motl_idx', 'tomo_num', 'object', 'subtomo_num', 'halfset', ...ORIG, 'score', ...SHIFT, 'phi', 'psi', 'the', 'class'];
  const rows = picks.map((p, i) => {
    const tomo = opts.tomoName ?? p.tomoName ?? '1';
    if (!isIntegerText(tomo)) throw new CryosamError(`STOPGAP numbers its tomograms: cannot write tomogram name "${tomo}"`);
    const cls = opts.objectName ?? p.className;
    const pos = [p.x, p.y, p.z];
    const orig = pos.map(Math.round);
    return [
      String(i + 1),
      tomo,
      '1',
      String(p.instanceId ?? i + 1),
      i % 2 === 0 ? 'A' : 'B',
      ...orig.map(String),
      formatNumber(p.score ?? 0),
      ...pos.map((v, a) => formatNumber(v - orig[a])),
      '0',
      '0',
      '0',
      isIntegerText(cls) ? cls : '1',
    ];
  });
  return formatStarLoop('stopgap_motivelist', columns, rows);
}
