/**
 * On-disk cache of slice embeddings and feature grids. Entries are keyed by what determines them:
 * the tomogram's content hash (after normalisation), the engine identity and the parameters, so
 * a second run on the same tomogram with other prompts reuses the expensive encoder passes.
 * The folder is bounded in size; the least recently used entries (by mtime, touched on read) go first.
 *
 * The cache is an optimisation, never a reason for a run to fail or to change its result:
 * - it touches only files it wrote (name `ab/ab…(64 hex).bin` AND its own envelope header), so a
 *   cache folder pointed at other data never loses a file to eviction or `clear()`;
 * - every entry carries an envelope (magic, version, key, body length, sha256 of the body) that
 *   `get()` verifies, so a damaged or misplaced entry is removed and recomputed, with a warning;
 * - a folder that cannot be read or written gives one warning and the run goes on without it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EngineIdentity } from '../engines/types.js';
import { writeAtomic } from '../io/atomic.js';

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

/**
 * Entry envelope, little-endian, before the body:
 *   0  "CRYOSAMC"          8 bytes
 *   8  format version      u32
 *  12  reserved (0)        u32
 *  16  key                 32 bytes (the 64-hex key as raw bytes: a copy under another name is rejected)
 *  48  body length         u64
 *  56  sha256 of the body  32 bytes
 */
export const CACHE_MAGIC = Buffer.from('CRYOSAMC', 'latin1');
const FORMAT_VERSION = 1;
export const ENVELOPE_BYTES = 88;

const KEY_RE = /^[0-9a-f]{64}$/;
const SUBDIR_RE = /^[0-9a-f]{2}$/;
const ENTRY_RE = /^([0-9a-f]{64})\.bin$/;

export interface CacheInfo {
  dir: string;
  /** Cache entries (files this cache wrote). */
  files: number;
  bytes: number;
  limitBytes: number;
  /** Other files in the folder, left alone: wrong name pattern or no cache header. */
  skipped: number;
}

export interface CacheClearResult {
  removed: number;
  /** Files that are not cache entries, left in place. */
  skipped: number;
  /** Entries that could not be removed (a warning names the reason). */
  failed: number;
}

/** Problems met, for run reports; each kind is also warned about once. */
export interface CacheStats {
  /** Entries that failed verification (envelope or the reader's decoding) and were recomputed. */
  corrupt: number;
  /** Writes or removals that failed; the first one turns the cache off. */
  writeFailures: number;
  /** Reads that failed other than for a missing entry; the first one turns the cache off. */
  readFailures: number;
}

export interface DiskCacheOptions {
  /** Receives each distinct problem once; default: a `cryosam: warning: …` line on stderr. */
  onWarning?: (message: string) => void;
}

function stderrWarning(message: string): void {
  process.stderr.write(`cryosam: warning: ${message}\n`);
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? (e instanceof Error ? e.message : String(err));
}

/** The header DiskCache.put writes before `body`. */
function envelope(key: string, body: Uint8Array): Uint8Array {
  const header = Buffer.alloc(ENVELOPE_BYTES);
  CACHE_MAGIC.copy(header, 0);
  header.writeUInt32LE(FORMAT_VERSION, 8);
  header.write(key, 16, 32, 'hex');
  header.writeBigUInt64LE(BigInt(body.byteLength), 48);
  createHash('sha256').update(body).digest().copy(header, 56);
  return header;
}

/** Why `bytes` (a whole file with our magic) is not a valid entry for `key`, or undefined if it is. */
function envelopeProblem(key: string, bytes: Buffer): string | undefined {
  if (bytes.byteLength < ENVELOPE_BYTES) return 'truncated header';
  if (bytes.readUInt32LE(8) !== FORMAT_VERSION || bytes.readUInt32LE(12) !== 0) return 'unknown format version';
  if (bytes.toString('hex', 16, 48) !== key) return 'entry belongs to another key';
  if (bytes.readBigUInt64LE(48) !== BigInt(bytes.byteLength - ENVELOPE_BYTES)) return 'body length differs from the header';
  const sum = createHash('sha256').update(bytes.subarray(ENVELOPE_BYTES)).digest();
  if (!sum.equals(bytes.subarray(56, 88))) return 'checksum mismatch';
  return undefined;
}

interface Entry {
  file: string;
  size: number;
  mtimeMs: number;
}

export class DiskCache {
  readonly stats: CacheStats = { corrupt: 0, writeFailures: 0, readFailures: 0 };
  /** Bytes of entries, counted once then kept up to date; eviction runs when they may exceed the limit. */
  private knownBytes: number | undefined;
  /** Set after the first read or write failure: the run goes on without the cache. */
  private off = false;
  private dirChecked: Promise<void> | undefined;
  private readonly warned = new Set<string>();
  private readonly onWarning: (message: string) => void;

  constructor(
    readonly dir: string,
    readonly limitBytes = DEFAULT_CACHE_LIMIT_BYTES,
    options: DiskCacheOptions = {},
  ) {
    this.onWarning = options.onWarning ?? stderrWarning;
  }

  /** False once a failure turned the cache off for the rest of this instance's life. */
  get enabled(): boolean {
    return !this.off;
  }

  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.bin`);
  }

  /** One warning per distinct problem (`kind`), whatever the number of files it concerns. */
  private warn(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    try {
      this.onWarning(message);
    } catch {
      // A failing warning sink must not stop the run either.
    }
  }

  private turnOff(kind: 'read' | 'write', err: unknown): void {
    if (kind === 'read') this.stats.readFailures++;
    else this.stats.writeFailures++;
    this.off = true;
    this.warn(`off:${kind}`, `cache folder ${this.dir} cannot be ${kind === 'read' ? 'read' : 'written'} (${reason(err)}); going on without the cache`);
  }

  /** A cache folder that is a file (or other non-folder) is unusable: say so once, before the first read. */
  private checkDir(): Promise<void> {
    this.dirChecked ??= this.statDir();
    return this.dirChecked;
  }

  private async statDir(): Promise<void> {
    const st = await fs.stat(this.dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : err));
    if (st instanceof Error) this.turnOff('read', st);
    else if (st && !st.isDirectory()) this.turnOff('read', new Error('not a folder'));
  }

  private validKey(key: string): boolean {
    if (KEY_RE.test(key)) return true;
    this.warn('key', `cache key ${JSON.stringify(key)} is not 64 lowercase hex digits; not cached`);
    return false;
  }

  /**
   * The body stored under `key`, verified; undefined when absent, damaged (removed and counted) or
   * when the cache is off. Never throws.
   */
  async get(key: string): Promise<Uint8Array | undefined> {
    await this.checkDir();
    if (this.off || !this.validKey(key)) return undefined;
    const file = this.file(key);
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (err) {
      // Missing, or a non-folder in the way of this one subfolder: a miss (put reports if it cannot write).
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.turnOff('read', err);
      return undefined;
    }
    // Without our magic it is not an entry we wrote (e.g. an older format): a miss, left for put to replace.
    if (bytes.byteLength < CACHE_MAGIC.length || !bytes.subarray(0, CACHE_MAGIC.length).equals(CACHE_MAGIC)) return undefined;
    const problem = envelopeProblem(key, bytes);
    if (problem) {
      await this.dropCorrupt(key, problem, 'envelope');
      return undefined;
    }
    const now = new Date();
    // Touch so that eviction by mtime is least-recently-used, not least-recently-written.
    await fs.utimes(file, now, now).catch(() => undefined);
    return new Uint8Array(bytes.buffer, bytes.byteOffset + ENVELOPE_BYTES, bytes.byteLength - ENVELOPE_BYTES);
  }

  /**
   * Drops the entry under `key` as corrupt: for readers whose decoding of a verified body failed
   * (a header that does not match what they asked for). Counted and warned about; never throws.
   */
  discard(key: string, why: string): Promise<void> {
    return this.dropCorrupt(key, why, 'content');
  }

  /** Counts, warns (once per source: a damaged disk would otherwise warn for every entry) and removes. */
  private async dropCorrupt(key: string, why: string, source: 'envelope' | 'content'): Promise<void> {
    this.stats.corrupt++;
    const file = this.file(key);
    this.warn(`corrupt:${source}`, `corrupt cache entry ${file} (${why}); removed, it will be recomputed (further corrupt entries are only counted)`);
    if (this.off || !KEY_RE.test(key)) return;
    try {
      // Only our own entries: the file must still carry our magic.
      if (await this.hasMagic(file)) await fs.rm(file, { force: true });
    } catch (err) {
      this.turnOff('write', err);
    }
  }

  /** Stores `body` under `key` (skipped when larger than the limit or the cache is off). Never throws. */
  async put(key: string, body: Uint8Array): Promise<void> {
    await this.checkDir();
    if (this.off || !this.validKey(key) || body.byteLength + ENVELOPE_BYTES > this.limitBytes) return;
    const file = this.file(key);
    const header = envelope(key, body);
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await writeAtomic(file, async (tmp) => {
        const handle = await fs.open(tmp, 'w');
        try {
          await handle.writev([header, body]);
        } finally {
          await handle.close();
        }
      });
    } catch (err) {
      this.turnOff('write', err);
      return;
    }
    const size = ENVELOPE_BYTES + body.byteLength;
    if (this.knownBytes === undefined) this.knownBytes = (await this.scan()).entries.reduce((s, f) => s + f.size, 0);
    else this.knownBytes += size;
    if (this.knownBytes > this.limitBytes) this.knownBytes = await this.evict(this.limitBytes);
  }

  /** Whether `file` starts with the cache magic: the mark of an entry this cache wrote. */
  private async hasMagic(file: string): Promise<boolean> {
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(file, 'r');
      const head = Buffer.alloc(CACHE_MAGIC.length);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      return bytesRead === head.length && head.equals(CACHE_MAGIC);
    } catch {
      return false;
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  /**
   * Our entries (name pattern: `ab/ab…(64 hex).bin`, and our magic) and a count of every other
   * file found; an unreadable folder is warned about and yields nothing.
   */
  private async scan(): Promise<{ entries: Entry[]; skipped: number }> {
    const entries: Entry[] = [];
    let skipped = 0;
    let subdirs: string[];
    try {
      subdirs = await fs.readdir(this.dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.turnOff('read', err);
      return { entries, skipped };
    }
    for (const sub of subdirs) {
      const subdir = path.join(this.dir, sub);
      const st = await fs.stat(subdir).catch(() => undefined);
      if (!st?.isDirectory()) {
        skipped++;
        continue;
      }
      const names = await fs.readdir(subdir).catch(() => undefined);
      if (!names) {
        skipped++;
        continue;
      }
      for (const name of names) {
        const file = path.join(subdir, name);
        const m = ENTRY_RE.exec(name);
        const fst = await fs.stat(file).catch(() => undefined);
        if (SUBDIR_RE.test(sub) && m && m[1].startsWith(sub) && fst?.isFile() && (await this.hasMagic(file))) {
          entries.push({ file, size: fst.size, mtimeMs: fst.mtimeMs });
        } else {
          skipped++;
        }
      }
    }
    return { entries, skipped };
  }

  /** Deletes the least recently used entries until they take at most `limit` bytes; returns the bytes left. */
  async evict(limit: number): Promise<number> {
    const { entries } = await this.scan();
    entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = entries.reduce((s, f) => s + f.size, 0);
    for (const f of entries) {
      if (total <= limit) break;
      try {
        await fs.rm(f.file, { force: true });
      } catch (err) {
        this.turnOff('write', err);
        break;
      }
      total -= f.size;
    }
    return total;
  }

  async info(): Promise<CacheInfo> {
    const { entries, skipped } = await this.scan();
    return { dir: this.dir, files: entries.length, bytes: entries.reduce((s, f) => s + f.size, 0), limitBytes: this.limitBytes, skipped };
  }

  /** Removes every cache entry: only the files this cache wrote, never other content of the folder. */
  async clear(): Promise<CacheClearResult> {
    const { entries, skipped } = await this.scan();
    let removed = 0, failed = 0;
    for (const f of entries) {
      try {
        await fs.rm(f.file, { force: true });
        removed++;
      } catch (err) {
        failed++;
        this.stats.writeFailures++;
        this.warn('clear', `cannot remove cache entry ${f.file} (${reason(err)})`);
      }
    }
    this.knownBytes = undefined;
    return { removed, skipped, failed };
  }
}
