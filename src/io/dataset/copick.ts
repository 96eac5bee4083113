/**
 * copick projects (https://github.com/copick/copick), read from their config JSON. The layout is
 * copick's filesystem backend (src/copick/impl/filesystem.py, CopickRootFSSpec and friends):
 *
 *   <root>/ExperimentRuns/<run>/VoxelSpacing<size:.3f>/<tomo_type>.zarr     tomograms (OME-Zarr)
 *   <root>/ExperimentRuns/<run>/Picks/<user_id>_<session_id>_<object>.json   picks
 *
 * where <root> is `static_root` (read-only input data) and `overlay_root` (where copick writes);
 * runs, voxel spacings and tomograms are the union of both, hidden names and `*features*` Zarr
 * stores left out, and picks are written to the overlay. Roots are fsspec URLs: `local://` and
 * `file://` prefixes are stripped (as fsspec does), a relative root is taken from the config's
 * folder, and any other protocol (s3://, ssh://, smb://, …) is refused: cryosam reads local files.
 *
 * cryosam reads MRC, not OME-Zarr: a tomogram is `<tomo_type>.mrc` in the VoxelSpacing folder,
 * beside or instead of copick's `<tomo_type>.zarr`. A run whose chosen tomogram exists only as
 * Zarr is an error that says so.
 */
import { readFileSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CryosamError } from '../../errors.js';
import { requireInputFile } from '../files.js';
import { checkFixedName, type Candidate } from './candidate.js';
import { comparePaths } from './glob.js';

export interface CopickChoice {
  /** Voxel spacing in Å (the VoxelSpacing<size> folder); default: the only one holding an MRC tomogram. */
  voxelSpacing?: number;
  /** Tomogram type (`<tomo_type>.mrc`); default: the only one present as MRC. */
  tomoType?: string;
}

const CopickConfigSchema = z.object({
  config_type: z.string().nullish(),
  pickable_objects: z.array(z.object({ name: z.string() })),
  overlay_root: z.string().nullish(),
  static_root: z.string().nullish(),
});
type CopickConfigJson = z.infer<typeof CopickConfigSchema>;

/** Parses a copick config's text; a CryosamError naming `file` unless it is one. */
export function parseCopickConfig(text: string, file: string): CopickConfigJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CryosamError(`not a copick config: not valid JSON (${(err as Error).message})`, file);
  }
  const result = CopickConfigSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new CryosamError(`not a copick config: ${where}${issue.message}`, file);
  }
  const config = result.data;
  if (config.config_type === 'cryoet_data_portal') {
    throw new CryosamError(
      'is a copick config for the CryoET Data Portal; cryosam reads local MRC files: download the tomograms and use a filesystem project',
      file,
    );
  }
  if (!config.overlay_root && !config.static_root) {
    throw new CryosamError('not a copick config: it has neither overlay_root nor static_root', file);
  }
  return config;
}

/** A local folder from a copick root URL; relative roots are taken from the config's folder. */
function localRoot(url: string, field: string, configFile: string, shown = configFile): string {
  let rest = url;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (scheme) {
    const protocol = scheme[1].toLowerCase();
    if (protocol !== 'local' && protocol !== 'file') {
      throw new CryosamError(`${field} ${url}: cryosam reads local files only (local:// or file://), not ${protocol}://`, shown);
    }
    rest = url.slice(scheme[0].length);
    if (protocol === 'file' && rest.startsWith('localhost/')) rest = rest.slice('localhost'.length);
  }
  if (rest === '') throw new CryosamError(`${field} is empty`, shown);
  return path.resolve(path.dirname(configFile), rest);
}

/** The project's roots, static first (input data), then overlay, without repeats. */
function roots(config: CopickConfigJson, configFile: string, shown: string): string[] {
  const out: string[] = [];
  if (config.static_root) out.push(localRoot(config.static_root, 'static_root', configFile, shown));
  if (config.overlay_root) out.push(localRoot(config.overlay_root, 'overlay_root', configFile, shown));
  return [...new Set(out)];
}

async function listDir(dir: string): Promise<{ name: string; isDir: boolean; isFile: boolean }[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const out = [];
  for (const name of names.sort(comparePaths)) {
    if (name.startsWith('.')) continue;
    const st = await fs.stat(path.join(dir, name)).catch(() => undefined); // follows links, as copick's isdir does
    if (st) out.push({ name, isDir: st.isDirectory(), isFile: st.isFile() });
  }
  return out;
}

/** Voxel spacings are folder names "VoxelSpacing10.000": compared by their 3-decimal spelling. */
function spacingKey(size: number): string {
  return size.toFixed(3);
}

interface RunTomograms {
  run: string;
  /** spacing key → tomo type → files found (MRC and/or Zarr), static root first. */
  spacings: Map<string, Map<string, { mrc?: string; zarr?: string }>>;
}

async function scanRun(run: string, rootDirs: readonly string[]): Promise<RunTomograms> {
  const spacings = new Map<string, Map<string, { mrc?: string; zarr?: string }>>();
  for (const root of rootDirs) {
    const runDir = path.join(root, 'ExperimentRuns', run);
    for (const vs of await listDir(runDir)) {
      const m = /^VoxelSpacing(.+)$/.exec(vs.name);
      const size = m ? Number(m[1]) : NaN;
      if (!vs.isDir || !(size > 0) || !Number.isFinite(size)) continue;
      const key = spacingKey(size);
      const types = spacings.get(key) ?? new Map<string, { mrc?: string; zarr?: string }>();
      spacings.set(key, types);
      for (const e of await listDir(path.join(runDir, vs.name))) {
        const t = /^(.+)\.(mrc|zarr)$/i.exec(e.name);
        if (!t || t[1].includes('features')) continue;
        const kind = t[2].toLowerCase() === 'mrc' ? 'mrc' : 'zarr';
        if ((kind === 'mrc' && !e.isFile) || (kind === 'zarr' && !e.isDir)) continue;
        const files = types.get(t[1]) ?? {};
        types.set(t[1], files);
        files[kind] ??= path.join(runDir, vs.name, e.name);
      }
    }
  }
  return { run, spacings };
}

/** The given choice, else the only value with an MRC tomogram, else an error listing the values. */
function choose(
  what: string,
  given: string | undefined,
  withMrc: Set<string>,
  all: Set<string>,
  at: string,
  file: string,
): string {
  if (given !== undefined) return given;
  const list = (values: Set<string>) => [...values].sort(comparePaths).join(', ');
  if (withMrc.size === 1) return [...withMrc][0];
  if (withMrc.size > 1) throw new CryosamError(`holds MRC tomograms${at} at several ${what}s (${list(withMrc)}): choose one`, file);
  if (all.size === 0) throw new CryosamError(`no run holds a tomogram${at} (ExperimentRuns/<run>/VoxelSpacing<size>/<type>.mrc)`, file);
  throw new CryosamError(
    `holds tomograms${at} only as OME-Zarr (${what}s ${list(all)}); cryosam reads MRC: ` +
      'write each as <tomo_type>.mrc beside its <tomo_type>.zarr',
    file,
  );
}

/**
 * One tomogram per run of the copick project `configFile` (absolute; errors name it as `given`;
 * `source` is the input it came from), at the chosen voxel spacing and tomogram type. Every run
 * must have that tomogram as MRC.
 */
export async function readCopickProject(
  configFile: string,
  given: string,
  source: string,
  choice: CopickChoice = {},
): Promise<Candidate[]> {
  const text = await fs.readFile(configFile, 'utf8').catch((err: Error) => {
    throw new CryosamError(`cannot read: ${err.message}`, given);
  });
  const config = parseCopickConfig(text, given);
  const rootDirs = roots(config, configFile, given);

  const runNames = new Set<string>();
  let anyRunsFolder = false;
  for (const root of rootDirs) {
    const dir = path.join(root, 'ExperimentRuns');
    if (await fs.stat(dir).then((s) => s.isDirectory(), () => false)) anyRunsFolder = true;
    for (const e of await listDir(dir)) if (e.isDir) runNames.add(e.name);
  }
  if (!anyRunsFolder) throw new CryosamError(`no ExperimentRuns folder in ${rootDirs.join(' or ')}`, given);
  if (runNames.size === 0) throw new CryosamError(`no runs in ${rootDirs.map((r) => path.join(r, 'ExperimentRuns')).join(' or ')}`, given);
  const runs = await Promise.all([...runNames].sort(comparePaths).map((run) => scanRun(run, rootDirs)));

  if (choice.voxelSpacing !== undefined && !(choice.voxelSpacing > 0 && Number.isFinite(choice.voxelSpacing))) {
    throw new CryosamError(`voxel spacing ${choice.voxelSpacing} is not a positive number`, given);
  }
  const spacingsWithMrc = new Set<string>();
  const allSpacings = new Set<string>();
  for (const r of runs) {
    for (const [key, types] of r.spacings) {
      allSpacings.add(key);
      if ([...types.values()].some((f) => f.mrc)) spacingsWithMrc.add(key);
    }
  }
  const spacing = choose(
    'voxel spacing',
    choice.voxelSpacing === undefined ? undefined : spacingKey(choice.voxelSpacing),
    spacingsWithMrc,
    allSpacings,
    '',
    given,
  );

  for (const r of runs) {
    if (!r.spacings.has(spacing)) {
      const has = [...r.spacings.keys()].sort(comparePaths);
      throw new CryosamError(
        `run ${r.run} has no ExperimentRuns/${r.run}/VoxelSpacing${spacing} ` +
          `(${has.length > 0 ? `voxel spacings: ${has.join(', ')}` : 'no VoxelSpacing folders'})`,
        given,
      );
    }
  }

  const typesWithMrc = new Set<string>();
  const allTypes = new Set<string>();
  for (const r of runs) {
    for (const [type, files] of r.spacings.get(spacing) ?? []) {
      allTypes.add(type);
      if (files.mrc) typesWithMrc.add(type);
    }
  }
  const tomoType = choose('tomogram type', choice.tomoType, typesWithMrc, allTypes, ` at voxel spacing ${spacing}`, given);

  const out: Candidate[] = [];
  for (const r of runs) {
    const where = `run ${r.run}`;
    checkFixedName(r.run, 'run name', given);
    const types = r.spacings.get(spacing)!;
    const folder = `ExperimentRuns/${r.run}/VoxelSpacing${spacing}`;
    const files = types.get(tomoType);
    if (!files) {
      const has = [...types.keys()].sort();
      throw new CryosamError(
        `${where} has no tomogram ${tomoType} in ${folder} (${has.length > 0 ? `types: ${has.join(', ')}` : 'it holds none'})`,
        given,
      );
    }
    if (!files.mrc) {
      throw new CryosamError(
        `${where}: tomogram ${tomoType} is only OME-Zarr (${files.zarr}); cryosam reads MRC: write it as ${tomoType}.mrc beside it`,
        given,
      );
    }
    const stats = await requireInputFile(files.mrc).catch((err: unknown) => {
      if (err instanceof CryosamError) throw new CryosamError(`${where}: ${err.message}`, given);
      throw err;
    });
    const voxelSpacing = Number(spacing);
    out.push({
      name: r.run,
      path: files.mrc,
      stats,
      voxelSizeA: voxelSpacing,
      source,
      where: `${given} ${where}`,
      copick: { run: r.run, voxelSpacing, tomoType },
    });
  }
  return out;
}

/** copick reads a picks file's name as <user>_<session>_<object>, split at '_'. */
function checkPicksPart(value: string, what: string, configFile: string): void {
  if (value === '' || /[_\\/\0]/.test(value) || value.startsWith('.')) {
    throw new CryosamError(
      `copick ${what} "${value}" cannot be part of a picks file name <user>_<session>_<object>.json ` +
        "(copick splits it at '_'): give one without '_', '/', '\\' or a leading '.'",
      configFile,
    );
  }
}

/**
 * Where copick keeps the picks of `objectName` by `userId` in session `sessionId` for `run`:
 * `<overlay_root>/ExperimentRuns/<run>/Picks/<userId>_<sessionId>_<objectName>.json`
 * (the overlay is where copick writes). Reads the config synchronously.
 */
export function copickPicksPath(configPath: string, run: string, objectName: string, userId: string, sessionId: string): string {
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CryosamError(code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`, configPath);
  }
  const config = parseCopickConfig(text, configPath);
  if (!config.overlay_root) throw new CryosamError('has no overlay_root: copick writes picks to the overlay', configPath);
  const overlay = localRoot(config.overlay_root, 'overlay_root', path.resolve(configPath), configPath);
  checkFixedName(run, 'copick run name', configPath);
  checkPicksPart(userId, 'user id', configPath);
  checkPicksPart(sessionId, 'session id', configPath);
  checkPicksPart(objectName, 'object name', configPath);
  return path.join(overlay, 'ExperimentRuns', run, 'Picks', `${userId}_${sessionId}_${objectName}.json`);
}
