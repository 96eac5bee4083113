/** `cryosam models pull/verify/list` as library functions (the CLI only formats their results). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CryosamError } from '../../errors.js';
import { CATALOG, findCatalogEntry, type CatalogEntry } from './catalog.js';
import { downloadFile } from './download.js';
import { sha256File } from './hash.js';
import { MANIFEST_FILE, writeManifest, type ManifestInput } from './manifest.js';
import { verifyModelFolder } from './verify.js';

export interface PullOptions {
  modelsDir: string;
  /** Mirror base URL: files are fetched from <base>/<model>/<file>; default $CRYOSAM_MODELS_BASE_URL or the catalog URLs. */
  baseUrl?: string;
  onProgress?: (file: string, done: number, total: number | undefined) => void;
  retries?: number;
}

export interface PulledFile {
  file: string;
  sha256: string;
  /** 'verified' against the catalog's checksum, or 'recorded' (none published: the computed one was written to the manifest). */
  checksum: 'verified' | 'recorded';
  downloaded: boolean;
}

export async function pullModel(name: string, opts: PullOptions): Promise<{ dir: string; files: PulledFile[] }> {
  const entry = findCatalogEntry(name);
  if (!entry) {
    throw new CryosamError(`unknown model '${name}'; known: ${CATALOG.map((e) => e.name).join(', ')}`);
  }
  const dir = path.join(opts.modelsDir, name);
  const firstCreated = await fs.mkdir(dir, { recursive: true });
  try {
    return await pullInto(entry, dir, opts);
  } catch (err) {
    // Folders this pull made and left empty (nothing arrived) would look like a broken install.
    if (firstCreated !== undefined) {
      for (let d = dir; d.length >= firstCreated.length; d = path.dirname(d)) {
        if ((await fs.readdir(d).catch(() => ['?'])).length > 0) break;
        await fs.rmdir(d).catch(() => undefined);
      }
    }
    throw err;
  }
}

async function pullInto(entry: CatalogEntry, dir: string, opts: PullOptions): Promise<{ dir: string; files: PulledFile[] }> {
  const name = entry.name;
  const base = opts.baseUrl ?? process.env.CRYOSAM_MODELS_BASE_URL;
  const files: PulledFile[] = [];
  for (const f of entry.files) {
    const dest = path.join(dir, f.file);
    const present = await fs.stat(dest).then(() => true, () => false);
    let sha256: string | undefined;
    if (present) {
      const actual = await sha256File(dest);
      if (!f.sha256 || actual === f.sha256) sha256 = actual;
    }
    const downloaded = sha256 === undefined;
    if (downloaded) {
      const url = base ? `${base.replace(/\/+$/, '')}/${name}/${f.file}` : f.url;
      if (!url) {
        throw new CryosamError(`'${f.file}' of ${name} has no download: ${f.howToGet ?? 'put the file here by hand'}`, dest);
      }
      sha256 = await downloadFile(url, dest, {
        sha256: f.sha256,
        retries: opts.retries,
        onProgress: (done, total) => opts.onProgress?.(f.file, done, total),
      });
    }
    files.push({ file: f.file, sha256: sha256 as string, checksum: f.sha256 ? 'verified' : 'recorded', downloaded });
  }
  await writeManifest(dir, withChecksums(entry, files));
  return { dir, files };
}

/** The catalog manifest with every file's sha256 filled in. */
function withChecksums(entry: CatalogEntry, files: PulledFile[]): ManifestInput {
  const sha = new Map(files.map((f) => [f.file, f.sha256]));
  const m = structuredClone(entry.manifest);
  if (m.kind === 'sam' || m.kind === 'sam-encoder') m.encoder.sha256 = sha.get(m.encoder.file);
  if (m.kind === 'sam' || m.kind === 'sam-decoder') m.decoder.sha256 = sha.get(m.decoder.file);
  if (m.kind === 'dinov2' || m.kind === 'dino' || m.kind === 'xfeat') m.model.sha256 = sha.get(m.model.file);
  return m;
}

export interface VerifyReport {
  name: string;
  ok: boolean;
  /** What failed, or the number of files checked. */
  detail: string;
}

/** Re-hashes one model folder, or every folder with a manifest under modelsDir. */
export async function verifyModels(modelsDir: string, name?: string): Promise<VerifyReport[]> {
  const names = name ? [name] : await installedModels(modelsDir);
  const reports: VerifyReport[] = [];
  for (const n of names) {
    try {
      const v = await verifyModelFolder(path.join(modelsDir, n));
      const unknown = v.files.filter((f) => !f.expected).length;
      reports.push({ name: n, ok: true, detail: `${v.files.length} file(s) ok${unknown ? `, ${unknown} without a recorded checksum` : ''}` });
    } catch (err) {
      if (!(err instanceof CryosamError)) throw err;
      reports.push({ name: n, ok: false, detail: err.message });
    }
  }
  return reports;
}

/** Folders under modelsDir that hold a manifest. */
export async function installedModels(modelsDir: string): Promise<string[]> {
  const entries = await fs.readdir(modelsDir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() && (await fs.stat(path.join(modelsDir, e.name, MANIFEST_FILE)).then(() => true, () => false))) names.push(e.name);
  }
  return names.sort();
}
