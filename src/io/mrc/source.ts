/**
 * Positional byte access to an MRC file, plain or compressed. Plain files are read in place
 * (no whole-file buffer). gzip and bzip2 files have no random access, so their data are
 * decompressed into memory once, into one buffer of exactly the size their header promises:
 * the header is read from the first decompressed bytes and checked before anything larger is
 * allocated, and decompression stops as soon as the data run past that size. A compressed
 * tomogram thus costs its decompressed size in RAM (plus, for bzip2, the compressed file, which
 * seek-bzip decodes from memory; its output is bounded the same way, byte by byte).
 */
import { createReadStream, promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { CryosamError } from '../../errors.js';
import { requireInputFile } from '../files.js';
import { HEADER_BYTES } from './header.js';

interface BunzipOutput {
  writeByte(byte: number): void;
}
interface BunzipInput {
  readByte(): number;
  seek(position: number): void;
  eof(): boolean;
  read(buffer: Uint8Array, offset: number, length: number): number;
}
const Bunzip = createRequire(import.meta.url)('seek-bzip') as {
  /** Decodes `input` into `output` (an object with writeByte: nothing is kept by seek-bzip); `multistream` reads concatenated streams (pbzip2). */
  decode(input: BunzipInput, output: BunzipOutput, multistream?: boolean): void;
  /** seek-bzip's stream base class: read() built on readByte(). */
  Stream: new () => BunzipInput;
};

/**
 * What a compressed file's first decompressed bytes say about the whole: its exact decompressed
 * size, and the words for its layout that error messages use. Throws (naming the file) when the
 * header is not acceptable. `ended`: the data end after `first`, which is then shorter than
 * the header.
 */
export type SizeFromHeader = (first: Uint8Array, ended: boolean) => { size: number; layout: string };

/** deflate's largest expansion: a 258-byte match coded in 2 bits. No gzip file decompresses to more than this × its size. */
const DEFLATE_MAX_RATIO = 1032;

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

/**
 * Collects decompressed bytes into one buffer whose size the first HEADER_BYTES decide
 * (sizeFromHeader); throws CryosamError as soon as the data run past it, and at the end when
 * they fall short. Nothing larger than the header's promise is ever held.
 */
class BoundedSink {
  private readonly head = new Uint8Array(HEADER_BYTES);
  private headFilled = 0;
  private out?: Uint8Array;
  private filled = 0;
  private layout = '';

  constructor(
    private readonly path: string,
    private readonly kind: string,
    private readonly sizeFromHeader: SizeFromHeader,
    /** Largest decompressed size the compressed file could hold (Infinity when unknown). */
    private readonly maxSize: number,
  ) {}

  /** Appends `chunk`; throws when it goes past the size the header promises. */
  write(chunk: Uint8Array): void {
    let rest = chunk;
    if (!this.out) {
      const n = Math.min(HEADER_BYTES - this.headFilled, rest.byteLength);
      this.head.set(rest.subarray(0, n), this.headFilled);
      this.headFilled += n;
      rest = rest.subarray(n);
      if (this.headFilled < HEADER_BYTES) return;
      this.start();
    }
    const out = this.out!;
    if (rest.byteLength > out.byteLength - this.filled) this.tooLarge(this.filled + rest.byteLength);
    out.set(rest, this.filled);
    this.filled += rest.byteLength;
  }

  /** One byte (bzip2 decodes byte by byte). */
  writeByte(byte: number): void {
    const out = this.out;
    if (out) {
      if (this.filled === out.byteLength) this.tooLarge(this.filled + 1);
      out[this.filled++] = byte;
      return;
    }
    this.head[this.headFilled++] = byte;
    if (this.headFilled === HEADER_BYTES) this.start();
  }

  /** The data once they have ended: exactly the promised size, or a CryosamError. */
  finish(): Uint8Array {
    if (!this.out) {
      this.sizeFromHeader(this.head.subarray(0, this.headFilled), true);
      // sizeFromHeader always rejects data shorter than the header; this is a backstop.
      throw new CryosamError(`truncated MRC file: ${this.headFilled} bytes of ${this.kind} data, shorter than the ${HEADER_BYTES}-byte header`, this.path);
    }
    if (this.filled < this.out.byteLength) {
      throw new CryosamError(
        `truncated MRC file: header says ${this.layout}, so ${this.out.byteLength} bytes in all, ` +
          `but the ${this.kind} data decompress to only ${this.filled}`,
        this.path,
      );
    }
    return this.out;
  }

  private start(): void {
    const { size, layout } = this.sizeFromHeader(this.head, false);
    this.layout = layout;
    if (!(Number.isSafeInteger(size) && size >= HEADER_BYTES)) {
      throw new CryosamError(`header says ${layout}, an impossible size of ${size} bytes`, this.path);
    }
    if (size > this.maxSize) {
      throw new CryosamError(
        `truncated MRC file: header says ${layout}, so ${size} bytes in all, ` +
          `more than ${this.kind} data of this size can decompress to (at most ${this.maxSize})`,
        this.path,
      );
    }
    try {
      this.out = new Uint8Array(size);
    } catch {
      throw new CryosamError(`header says ${layout}, so ${size} bytes in all: not enough memory to decompress it`, this.path);
    }
    this.out.set(this.head);
    this.filled = HEADER_BYTES;
  }

  private tooLarge(reached: number): never {
    throw new CryosamError(
      `decompressed data is larger than its header says: ${this.layout} needs ${this.out!.byteLength} bytes in all, ` +
        `but the ${this.kind} data go on past that (stopped after ${reached} bytes)`,
      this.path,
    );
  }
}

/** Wraps anything but a CryosamError as a decompression error naming the file. */
function decompressError(err: unknown, kind: string, path: string): CryosamError {
  if (err instanceof CryosamError) return err;
  return new CryosamError(`cannot decompress ${kind} data: ${err instanceof Error ? err.message : String(err)}`, path);
}

/** Streams the gzip file through zlib into a BoundedSink; stops reading as soon as the sink throws. */
async function gunzipBounded(path: string, compressedSize: number, sizeFromHeader: SizeFromHeader): Promise<Uint8Array> {
  const sink = new BoundedSink(path, 'gzip', sizeFromHeader, compressedSize * DEFLATE_MAX_RATIO);
  const input = createReadStream(path);
  const gunzip = zlib.createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  try {
    // Throwing out of the loop destroys the gunzip stream: nothing more is read or inflated.
    for await (const chunk of gunzip as AsyncIterable<Buffer>) sink.write(chunk);
  } catch (err) {
    throw decompressError(err, 'gzip', path);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  return sink.finish();
}

/**
 * bzip2 through seek-bzip, whose decoder is synchronous and reads from memory: the compressed
 * file is read whole (its own size, not the decompressed one), and every decoded byte goes
 * straight into a BoundedSink, which stops the decoder by throwing once the data run past the
 * header's size. Concatenated streams (pbzip2) are read as one.
 */
async function bunzipBounded(path: string, sizeFromHeader: SizeFromHeader): Promise<Uint8Array> {
  const compressed = await fs.readFile(path);
  const sink = new BoundedSink(path, 'bzip2', sizeFromHeader, Infinity);
  const input = new Bunzip.Stream();
  let pos = 0;
  input.readByte = () => {
    if (pos >= compressed.byteLength) throw new CryosamError('cannot decompress bzip2 data: the compressed data end early (truncated file?)', path);
    return compressed[pos++];
  };
  input.seek = (p: number) => {
    pos = p;
  };
  input.eof = () => pos >= compressed.byteLength;
  try {
    Bunzip.decode(input, sink, true);
  } catch (err) {
    throw decompressError(err, 'bzip2', path);
  }
  return sink.finish();
}

/**
 * Opens `path` for positional reads, recognising gzip and bzip2 by their magic bytes (not the
 * name). Compressed data are decompressed into one buffer of the size `sizeFromHeader` reads
 * from their first bytes (see BoundedSink); plain files are checked by the caller.
 */
export async function openSource(path: string, sizeFromHeader: SizeFromHeader): Promise<ByteSource> {
  // Stat first: opening a FIFO would block forever, a folder cannot be read.
  await requireInputFile(path);
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
    const bytes = kind === 'gzip' ? await gunzipBounded(path, stat.size, sizeFromHeader) : await bunzipBounded(path, sizeFromHeader);
    return new MemorySource(bytes, path);
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}
