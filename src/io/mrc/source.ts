/**
 * Positional byte access to an MRC file, plain or compressed. Plain files are read in place
 * (no whole-file buffer); gzip and bzip2 files have no random access, so they are decompressed
 * into memory once (a documented limitation: a compressed tomogram costs its full size in RAM
 * on top of what is decoded from it).
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { CryosamError } from '../../errors.js';

const gunzip = promisify(zlib.gunzip);
const Bunzip = createRequire(import.meta.url)('seek-bzip') as { decode(input: Buffer): Buffer };

export interface ByteSource {
  /** Size in bytes (decompressed size for compressed files). */
  readonly size: number;
  /** Fills `target` with the bytes starting at `position`; throws if the source ends first. */
  read(target: Uint8Array, position: number): Promise<void>;
  close(): Promise<void>;
}

/** Largest single read: fs positional reads are limited to about 2 GiB per call. */
const MAX_READ = 1 << 30;

class FileSource implements ByteSource {
  constructor(
    private readonly handle: fs.FileHandle,
    readonly size: number,
    private readonly path: string,
  ) {}

  async read(target: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < target.byteLength) {
      const length = Math.min(MAX_READ, target.byteLength - done);
      const { bytesRead } = await this.handle.read(target, done, length, position + done);
      if (bytesRead === 0) {
        throw new CryosamError(`unexpected end of file at byte ${position + done} (was it truncated while reading?)`, this.path);
      }
      done += bytesRead;
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

class MemorySource implements ByteSource {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly path: string,
  ) {}

  get size(): number {
    return this.bytes.byteLength;
  }

  async read(target: Uint8Array, position: number): Promise<void> {
    if (position + target.byteLength > this.bytes.byteLength) {
      throw new CryosamError(`unexpected end of data at byte ${this.bytes.byteLength}`, this.path);
    }
    target.set(this.bytes.subarray(position, position + target.byteLength));
  }

  async close(): Promise<void> {}
}

function isGzip(magic: Uint8Array): boolean {
  return magic[0] === 0x1f && magic[1] === 0x8b;
}

function isBzip2(magic: Uint8Array): boolean {
  return magic[0] === 0x42 && magic[1] === 0x5a && magic[2] === 0x68; // "BZh"
}

async function decompress(path: string, kind: 'gzip' | 'bzip2'): Promise<Uint8Array> {
  const compressed = await fs.readFile(path);
  try {
    return kind === 'gzip' ? await gunzip(compressed) : Bunzip.decode(compressed);
  } catch (err) {
    throw new CryosamError(`cannot decompress ${kind} data: ${err instanceof Error ? err.message : String(err)}`, path);
  }
}

/** Opens `path` for positional reads, recognising gzip and bzip2 by their magic bytes (not the name). */
export async function openSource(path: string): Promise<ByteSource> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CryosamError(code === 'ENOENT' ? 'file not found' : `cannot open: ${(err as Error).message}`, path);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new CryosamError('not a regular file', path);
    const magic = new Uint8Array(3);
    await handle.read(magic, 0, 3, 0);
    const kind = isGzip(magic) ? 'gzip' : isBzip2(magic) ? 'bzip2' : undefined;
    if (kind === undefined) return new FileSource(handle, stat.size, path);
    await handle.close();
    return new MemorySource(await decompress(path, kind), path);
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}
