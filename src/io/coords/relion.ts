import { CryosamError } from '../../errors.js';
import type { CoordFrame } from './frame.js';
import { requireShape } from './frame.js';
import { makePick } from './make-pick.js';
import { formatNumber, isIntegerText } from './numbers.js';
import type { Pick } from './pick.js';
import { formatStarLoop, parseStar, type StarTable } from './star.js';
import { columnValues, TableReader } from './table.js';

/**
 * RELION-style particle STAR files. All are 0-based positions along x (columns), y (rows) and
 * z (sections), the centre of the first voxel at 0, as RELION's C++ code indexes volumes.
 *
 * - relion3: `rlnCoordinateX/Y/Z` in pixels of the tomogram (or of the tilt series, see
 *   coordinatePixelSize), tomogram in `rlnMicrographName`, one unnamed `data_` block. A 3D shift
 *   `rlnOriginX/Y/Z` in pixels is subtracted (RELION: centre = coordinate - origin); 2D-only
 *   `rlnOriginX/Y` of tilt-image stacks are per-image shifts and are ignored.
 * - relion4: same coordinates in `data_particles` with `rlnTomoName`; shifts `rlnOriginX/Y/ZAngst`
 *   in Å are subtracted. The coordinates' pixel size is frame.coordinatePixelSize, else the optics
 *   group's `rlnTomoTiltSeriesPixelSize`, else the tomogram's voxel size:
 *   voxel = (coordinate × pixelSize − originÅ) / voxelSize.
 * - tomoman: RELION 3 layout (pixel origins) with `rlnTomoName` in an unnamed `data_` block.
 * - relion5: `rlnCenteredCoordinateX/Y/ZAngst`, Å from the tomogram centre, minus
 *   `rlnOriginX/Y/ZAngst`. RELION decentres with centre = size / 2 (float division, in
 *   ParticleSet::getParticleCoordDecenteredPixel), so voxel = Å / voxelSize + n / 2: for even n
 *   the centre is voxel n/2, for odd n it falls half a voxel past the middle voxel.
 * Score: `rlnAutopickFigureOfMerit` (else `rlnLCCmax`); class: `rlnClassNumber`.
 */
export type RelionFlavour = 'relion3' | 'relion4' | 'relion5' | 'tomoman';

const PIXEL = ['rlnCoordinateX', 'rlnCoordinateY', 'rlnCoordinateZ'] as const;
const CENTRED = ['rlnCenteredCoordinateXAngst', 'rlnCenteredCoordinateYAngst', 'rlnCenteredCoordinateZAngst'] as const;
const ORIGIN_PIXEL = ['rlnOriginX', 'rlnOriginY', 'rlnOriginZ'] as const;
const ORIGIN_ANGST = ['rlnOriginXAngst', 'rlnOriginYAngst', 'rlnOriginZAngst'] as const;

/** The flavour a parsed STAR file's labels point to, or undefined when it holds no RELION coordinates. */
export function relionFlavour(tables: readonly StarTable[]): RelionFlavour | undefined {
  const has = (label: string) => tables.some((t) => t.columns.includes(label));
  if (has(CENTRED[0])) return 'relion5';
  if (!has(PIXEL[0])) return undefined;
  const particles = tables.find((t) => t.columns.includes(PIXEL[0]))!;
  if (particles.block === 'particles' || tables.some((t) => t.block === 'optics') || has(ORIGIN_ANGST[0])) return 'relion4';
  return has('rlnTomoName') ? 'tomoman' : 'relion3';
}

/** Column indices of all three labels, or undefined unless all are present. */
function triple(reader: TableReader, labels: readonly string[]): [number, number, number] | undefined {
  const idx = labels.map((l) => reader.column(l));
  return idx.every((i) => i >= 0) ? [idx[0], idx[1], idx[2]] : undefined;
}

/** Per optics group, the Å size of the pixels rlnCoordinateX/Y/Z count (RELION 4 and later). */
function tiltSeriesPixelSizes(tables: readonly StarTable[], file?: string): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const t of tables) {
    if (t.block !== 'optics') continue;
    const r = new TableReader(t, file);
    const size = r.column('rlnTomoTiltSeriesPixelSize');
    if (size < 0) continue;
    const group = r.column('rlnOpticsGroup');
    const tube = r.column('rlnHelicalTubeID');
    const track = r.column('rlnHelicalTrackLengthAngst');
    t.rows.forEach((row, i) => sizes.set(group < 0 ? String(i + 1) : row[group], r.pixelSize(i, size)));
  }
  return sizes;
}

export function parseRelion(text: string, frame: CoordFrame, flavour: RelionFlavour, file?: string): Pick[] {
  const tables = parseStar(text, file);
  const labels = flavour === 'relion5' ? CENTRED : PIXEL;
  const particleTables = tables.filter((t) => labels.every((l) => t.columns.includes(l)));
  if (particleTables.length === 0) {
    // Name what is missing from the table that comes closest, e.g. only rlnCoordinateZ.
    const present = (t: StarTable) => labels.filter((l) => t.columns.includes(l)).length;
    const best = tables.reduce<StarTable | undefined>((a, t) => (!a || present(t) > present(a) ? t : a), undefined);
    const missing = labels.filter((l) => !best?.columns.includes(l));
    throw new CryosamError(`no ${flavour} particle table: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, file);
  }
  const shape = flavour === 'relion5' ? requireShape(frame, 'RELION 5', file) : undefined;
  const opticsSizes = tiltSeriesPixelSizes(tables, file);
  const distinctSizes = [...new Set(opticsSizes.values())];
  const picks: Pick[] = [];
  for (const table of particleTables) {
    const r = new TableReader(table, file);
    const [cx, cy, cz] = triple(r, labels)!;
    const originPixel = shape ? undefined : triple(r, ORIGIN_PIXEL);
    const originAngst = triple(r, ORIGIN_ANGST);
    const tomo = r.column('rlnTomoName', 'rlnMicrographName');
    const score = r.column('rlnAutopickFigureOfMerit', 'rlnLCCmax');
    const cls = r.column('rlnClassNumber');
    const group = r.column('rlnOpticsGroup');
    const tube = r.column('rlnHelicalTubeID');
    const track = r.column('rlnHelicalTrackLengthAngst');
    const pixelSizeOf = (row: number): number => {
      if (frame.coordinatePixelSize !== undefined || opticsSizes.size === 0) return frame.coordinatePixelSize ?? frame.voxelSize;
      if (group < 0 && distinctSizes.length === 1) return distinctSizes[0];
      const size = group < 0 ? undefined : opticsSizes.get(table.rows[row][group]);
      if (size === undefined) {
        throw new CryosamError(`line ${table.lines[row]}: no rlnTomoTiltSeriesPixelSize for this particle's optics group`, file);
      }
      return size;
    };
    for (let i = 0; i < table.rows.length; i++) {
      const pos = [r.number(i, cx), r.number(i, cy), r.number(i, cz)];
      if (originPixel) {
        pos[0] -= r.number(i, originPixel[0]);
        pos[1] -= r.number(i, originPixel[1]);
        pos[2] -= r.number(i, originPixel[2]);
      }
      const pixelSize = shape ? 1 : pixelSizeOf(i); // relion5 positions are in Å already
      const angst = pos.map((v, a) => v * pixelSize - (originAngst ? r.number(i, originAngst[a]) : 0));
      const voxel = angst.map((v) => v / frame.voxelSize);
      if (shape) {
        voxel[0] += shape[2] / 2;
        voxel[1] += shape[1] / 2;
        voxel[2] += shape[0] / 2;
      }
      picks.push(
        makePick(voxel[0], voxel[1], voxel[2], {
          score: r.optionalNumber(i, score),
          className: r.optionalText(i, cls),
          tomoName: r.optionalText(i, tomo),
          helicalTubeId: r.optionalInteger(i, tube),
          helicalTrackLengthA: r.optionalNumber(i, track),
        }),
      );
    }
  }
  return picks;
}

export interface RelionWriteOptions {
  /** Written for every pick instead of its own tomoName. */
  tomoName?: string;
  /** Written as class for every pick instead of its own className (RELION keeps integer classes only). */
  objectName?: string;
}

/**
 * A minimal particle table RELION imports: the tomogram name, coordinates and, when every pick
 * has one, score and integer class. relion3/tomoman/relion4 coordinates are written in pixels of
 * frame.coordinatePixelSize (default: the tomogram's voxels); relion5 in centred Å.
 */
export function formatRelion(picks: readonly Pick[], frame: CoordFrame, flavour: RelionFlavour, opts: RelionWriteOptions = {}): string {
  const columns: string[] = [];
  const cells: string[][] = picks.map(() => []);
  const add = (label: string, values: readonly string[] | undefined) => {
    if (!values) return;
    columns.push(label);
    values.forEach((v, i) => cells[i].push(v));
  };
  add(flavour === 'relion3' ? 'rlnMicrographName' : 'rlnTomoName', columnValues(picks, (p) => opts.tomoName ?? p.tomoName));
  if (flavour === 'relion5') {
    const [nz, ny, nx] = requireShape(frame, 'RELION 5');
    const centred = (v: number, n: number) => formatNumber((v - n / 2) * frame.voxelSize);
    add(CENTRED[0], picks.map((p) => centred(p.x, nx)));
    add(CENTRED[1], picks.map((p) => centred(p.y, ny)));
    add(CENTRED[2], picks.map((p) => centred(p.z, nz)));
  } else {
    const scale = frame.voxelSize / (frame.coordinatePixelSize ?? frame.voxelSize);
    add(PIXEL[0], picks.map((p) => formatNumber(p.x * scale)));
    add(PIXEL[1], picks.map((p) => formatNumber(p.y * scale)));
    add(PIXEL[2], picks.map((p) => formatNumber(p.z * scale)));
  }
  add('rlnAutopickFigureOfMerit', columnValues(picks, (p) => (p.score === undefined ? undefined : formatNumber(p.score))));
  const classes = columnValues(picks, (p) => opts.objectName ?? p.className);
  add('rlnClassNumber', classes?.every(isIntegerText) ? classes : undefined);
  add('rlnHelicalTubeID', columnValues(picks, (p) => (p.helicalTubeId === undefined ? undefined : String(p.helicalTubeId))));
  add('rlnHelicalTrackLengthAngst', columnValues(picks, (p) => (p.helicalTrackLengthA === undefined ? undefined : formatNumber(p.helicalTrackLengthA))));
  const block = flavour === 'relion4' || flavour === 'relion5' ? 'particles' : '';
  return formatStarLoop(block, columns, cells);
}
