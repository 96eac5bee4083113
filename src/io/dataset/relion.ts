/**
 * RELION 5 `tomograms.star` (written by ImportTomo, ReconstructTomograms, …): one `data_global`
 * loop, a row per tomogram, `rlnTomoName` naming it and `rlnTomoReconstructedTomogram` the
 * reconstructed MRC, a path relative to the RELION project folder (e.g.
 * "ReconstructTomograms/job012/tomograms/rec_TS_01.mrc") while the STAR file itself lies two
 * folders below the project (ReconstructTomograms/job012/tomograms.star). A relative path is
 * therefore tried against, in order: the STAR file's folder, the current folder, and the STAR
 * file's parent and grandparent; the first that exists is taken, and an error names them all.
 * The voxel size is `rlnTomoTiltSeriesPixelSize` × `rlnTomoTomogramBinning` when both are given.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CryosamError } from '../../errors.js';
import { parseStar, type StarTable } from '../coords/star.js';
import { TableReader } from '../coords/table.js';
import { requireInputFile } from '../files.js';
import { isPlausiblePixelSize, PIXEL_SIZE_RULE } from '../pixel-size.js';
import { checkFixedName, type Candidate } from './candidate.js';

const NAME = 'rlnTomoName';
const TOMOGRAM = 'rlnTomoReconstructedTomogram';
const PIXEL_SIZE = 'rlnTomoTiltSeriesPixelSize';
const BINNING = 'rlnTomoTomogramBinning';

/** The table listing tomograms, or a CryosamError naming what the file lacks. */
function tomogramTable(tables: readonly StarTable[], file: string): StarTable {
  const full = tables.find((t) => t.columns.includes(NAME) && t.columns.includes(TOMOGRAM));
  if (full) return full;
  if (tables.some((t) => t.columns.includes(NAME) && t.columns.includes('rlnTomoTiltSeriesStarFile'))) {
    throw new CryosamError(
      `lists tilt series but no reconstructed tomograms (no ${TOMOGRAM} column): give the tomograms.star ` +
        'written by a RELION ReconstructTomograms job',
      file,
    );
  }
  throw new CryosamError(`not a RELION 5 tomograms.star: no table with columns ${NAME} and ${TOMOGRAM}`, file);
}

/** Folders a relative tomogram path is tried against, in order, without repeats. */
function searchFolders(starFile: string, cwd: string): string[] {
  const dir = path.dirname(starFile);
  return [...new Set([dir, cwd, path.dirname(dir), path.dirname(path.dirname(dir))])];
}

/**
 * The tomograms a tomograms.star lists, each checked to be an existing regular file.
 * `starFile` is absolute; errors name it as `given`; `source` is the input it came from.
 */
export async function readTomogramsStar(starFile: string, given: string, source: string, cwd: string): Promise<Candidate[]> {
  const text = await fs.readFile(starFile, 'utf8').catch((err: Error) => {
    throw new CryosamError(`cannot read: ${err.message}`, given);
  });
  const table = tomogramTable(parseStar(text, given), given);
  const r = new TableReader(table, given);
  const name = r.column(NAME);
  const tomogram = r.column(TOMOGRAM);
  const pixelSize = r.column(PIXEL_SIZE);
  const binning = r.column(BINNING);
  if (table.rows.length === 0) throw new CryosamError('lists no tomograms', given);

  const out: Candidate[] = [];
  for (let i = 0; i < table.rows.length; i++) {
    const line = table.lines[i];
    const tomoName = table.rows[i][name];
    const where = `line ${line}: tomogram ${tomoName}`;
    checkFixedName(tomoName, `line ${line}: ${NAME}`, given);
    const value = table.rows[i][tomogram].replace(/:mrc$/i, '');
    if (value === '') throw new CryosamError(`${where}: empty ${TOMOGRAM}`, given);
    const tried = path.isAbsolute(value) ? [value] : searchFolders(starFile, cwd).map((d) => path.resolve(d, value));
    let file: string | undefined;
    for (const p of tried) {
      if (await fs.lstat(p).then(() => true, () => false)) {
        file = p;
        break;
      }
    }
    if (!file) {
      const list = tried.length === 1 ? tried[0] : `tried ${tried.join(', ')}`;
      throw new CryosamError(`${where}: ${TOMOGRAM} ${value} not found (${list})`, given);
    }
    const stats = await requireInputFile(file).catch((err: unknown) => {
      if (err instanceof CryosamError) throw new CryosamError(`${where}: ${err.message}`, given);
      throw err;
    });

    let voxelSizeA: number | undefined;
    const size = pixelSize < 0 ? undefined : r.optionalNumber(i, pixelSize);
    const bin = binning < 0 ? undefined : r.optionalNumber(i, binning);
    if (size !== undefined && bin !== undefined) {
      if (!isPlausiblePixelSize(size)) {
        throw new CryosamError(`line ${line}: ${PIXEL_SIZE} ${size} is not a usable pixel size: it ${PIXEL_SIZE_RULE}`, given);
      }
      if (!(bin > 0) || !Number.isFinite(bin)) throw new CryosamError(`line ${line}: ${BINNING} ${bin} is not a positive number`, given);
      voxelSizeA = size * bin;
      if (!isPlausiblePixelSize(voxelSizeA)) {
        throw new CryosamError(
          `line ${line}: voxel size ${PIXEL_SIZE} × ${BINNING} = ${voxelSizeA} Å is not usable: it ${PIXEL_SIZE_RULE}`,
          given,
        );
      }
    }
    out.push({ name: tomoName, path: file, stats, voxelSizeA, source, where: `${given} ${where}` });
  }
  return out;
}
