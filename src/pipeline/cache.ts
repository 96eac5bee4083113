/**
 * On-disk cache of slice embeddings and feature grids. Entries are keyed by what determines them:
 * the tomogram's content hash (after normalisation), the engine identity and the parameters, so
 * a second run on the same tomogram with other prompts reuses the expensive encoder passes.
 * The folder is bounded in size; the least recently used files (by mtime, touched on read) go first.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EngineIdentity } from '../engines/types.js';
import { writeFileAtomic } from '../io/atomic.js';

export const DEFAULT_CACHE_LIMIT_BYTES = 4 * 1024 ** 3;

/** Streams the voxel bytes through sha256 in chunks, so no second copy of the tomogram is made. */
export function tomogramHash(data: Float32Array): string {
  const hash = createHash('sha256');
  const chunk = 1 << 24;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let off = 0; off < bytes.length; off += chunk) hash.update(bytes.subarray(off, Math.min(bytes.length, off + chunk)));
  return hash.digest('hex');
}

/** Stable string of an engine identity (keys sorted), for cache keys and reports. */
export function identityKey(identity: EngineIdentity): string {
  return stableStringify({ name: identity.name, weights: identity.weightsSha256 ?? null, params: identity.params });
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** sha256 of the key parts: the file name of a cache entry. */
export function cacheKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

export interface CacheInfo {
  dir: string;
  files: number;
  bytes: number;
  limitBytes: number;
}

export class DiskCache {
  /** Bytes written since the last size check; eviction runs when the folder may exceed the limit. */
  private knownBytes: number | undefined;

  constructor(
    readonly dir: string,
    readonly limitBytes = DEFAULT_CACHE_LIMIT_BYTES,
  ) {}

  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.bin`);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const file = this.file(key);
    try {
      const bytes = await fs.readFile(file);
      const now = new Date();
      // Touch so that eviction by mtime is least-recently-used, not least-recently-written.
      await fs.utimes(file, now, now).catch(() => undefined);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch {
      return undefined;
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength > this.limitBytes) return;
    const file = this.file(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, bytes);
    if (this.knownBytes === undefined) this.knownBytes = (await this.list()).reduce((s, f) => s + f.size, 0);
    else this.knownBytes += bytes.byteLength;
    if (this.knownBytes > this.limitBytes) this.knownBytes = await this.evict(this.limitBytes);
  }

  private async list(): Promise<{ file: string; size: number; mtimeMs: number }[]> {
    const out: { file: string; size: number; mtimeMs: number }[] = [];
    let subdirs: string[];
    try {
      subdirs = await fs.readdir(this.dir);
    } catch {
      return out;
    }
    for (const sub of subdirs) {
      const subdir = path.join(this.dir, sub);
      let names: string[];
      try {
        names = await fs.readdir(subdir);
      } catch {
        continue;
      }
      for (const name of names) {
        if (!name.endsWith('.bin')) continue;
        const file = path.join(subdir, name);
        const st = await fs.stat(file).catch(() => undefined);
        if (st?.isFile()) out.push({ file, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
    return out;
  }

  /** Deletes the least recently used entries until the folder holds at most `limit` bytes; returns the bytes left. */
  async evict(limit: number): Promise<number> {
    const files = await this.list();
    files.sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = files.reduce((s, f) => s + f.size, 0);
    for (const f of files) {
      if (total <= limit) break;
      await fs.rm(f.file, { force: true });
      total -= f.size;
    }
    return total;
  }

  async info(): Promise<CacheInfo> {
    const files = await this.list();
    return { dir: this.dir, files: files.length, bytes: files.reduce((s, f) => s + f.size, 0), limitBytes: this.limitBytes };
  }

  /** Removes every cache entry (only the files this cache writes, never other content of the folder). */
  async clear(): Promise<number> {
    const files = await this.list();
    for (const f of files) await fs.rm(f.file, { force: true });
    this.knownBytes = 0;
    return files.length;
  }
}
