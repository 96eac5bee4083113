import { CryosamError } from '../../errors.js';
import type { CoordFrame } from './frame.js';
import type { Pick } from './pick.js';

/**
 * IMOD binary models (.mod; bio3d.colorado.edu/imod/doc/binspec.html): big-endian chunks, each
 * starting with a 4-character tag. "IMOD" "V1.2", a 232-byte model header, then per object an
 * "OBJT" chunk (176 bytes) followed by its "CONT" contours (psize, flags, time, surf, then psize
 * float32 x,y,z triplets) and "MESH" chunks; other chunks (IMAT, VIEW, MINX, SIZE, ...) carry
 * their byte size and are skipped; "IEOF" ends the file.
 *
 * Model coordinates are in pixels of the model's image, but X and Y are continuous (pixel i spans
 * i..i+1, its centre at i + 0.5) while Z is the section index: voxel = (X − 0.5, Y − 0.5, Z).
 * Every point of every contour becomes a pick, with the object's name (else its 1-based number)
 * as class.
 */

const MODEL_HEADER_BYTES = 232;
const OBJECT_BYTES = 176;

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder('latin1').decode(end < 0 ? bytes : bytes.subarray(0, end)).trim();
}

/**
 * Reads a model front to back. Every read and every size or count taken from the file is checked
 * against the bytes left before it is used, so a damaged model (negative or huge counts, a cut
 * end) gives a CryosamError naming the file and the chunk, never a loop or a RangeError.
 */
class ModelCursor {
  pos = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string | undefined,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.bytes.byteLength - this.pos;
  }

  /** Throws "truncated IMOD model" unless `n` more bytes are there for `what`. */
  need(n: number, what: string): void {
    if (n > this.left) {
      throw new CryosamError(`truncated IMOD model: ${what} at byte ${this.pos} needs ${n} bytes, but the file has ${this.left} left`, this.file);
    }
  }

  /** Bytes taken by `count` items of `width` bytes read from the file for `what`; rejects negative or overflowing counts. */
  sizeOf(count: number, width: number, what: string, chunk: string, at: number): number {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new CryosamError(`broken IMOD model: ${chunk} chunk at byte ${at} has ${what} ${count}, which cannot be negative`, this.file);
    }
    const size = count * width;
    if (size > this.left) {
      throw new CryosamError(
        `broken IMOD model: ${chunk} chunk at byte ${at} has ${what} ${count} (${size} bytes), ` +
          `but the file has only ${this.left} bytes left (truncated IMOD model?)`,
        this.file,
      );
    }
    return size;
  }

  tag(what: string): string {
    this.need(4, what);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3]);
  }

  /** Big-endian int32 at pos + offset, within bytes already checked with need(). */
  int32At(offset: number): number {
    return this.view.getInt32(this.pos + offset);
  }

  float32At(offset: number): number {
    return this.view.getFloat32(this.pos + offset);
  }

  skip(n: number): void {
    this.pos += n;
  }
}

export function parseImod(bytes: Uint8Array, file?: string): Pick[] {
  try {
    return readModel(new ModelCursor(bytes, file), bytes, file);
  } catch (err) {
    // Backstop: every read is checked, but no DataView RangeError may reach the user as a stack.
    if (err instanceof RangeError) throw new CryosamError(`truncated IMOD model (${err.message})`, file);
    throw err;
  }
}

function readModel(c: ModelCursor, bytes: Uint8Array, file: string | undefined): Pick[] {
  c.need(8 + MODEL_HEADER_BYTES, 'the model header');
  const magic = c.tag('the model header');
  const version = c.tag('the model header');
  if (magic !== 'IMOD' || !version.startsWith('V1.')) {
    throw new CryosamError('not an IMOD binary model (no "IMODV1.x" at the start)', file);
  }
  c.skip(MODEL_HEADER_BYTES);
  const picks: Pick[] = [];
  let className: string | undefined;
  let objects = 0;
  for (;;) {
    const at = c.pos;
    const tag = c.tag('a chunk tag');
    if (tag === 'IEOF') break;
    if (tag === 'OBJT') {
      c.need(OBJECT_BYTES, 'an OBJT chunk');
      objects++;
      className = cString(bytes.subarray(c.pos, c.pos + 64)) || String(objects);
      c.skip(OBJECT_BYTES);
    } else if (tag === 'CONT') {
      // psize, flags, time, surf; then psize x,y,z float32 triplets.
      c.need(16, 'a CONT chunk');
      const psize = c.int32At(0);
      c.skip(16);
      c.sizeOf(psize, 12, 'point count', 'CONT', at);
      if (className === undefined) throw new CryosamError(`contour at byte ${at} before any object`, file);
      for (let i = 0; i < psize; i++) {
        picks.push({ x: c.float32At(0) - 0.5, y: c.float32At(4) - 0.5, z: c.float32At(8), className });
        c.skip(12);
      }
    } else if (tag === 'MESH') {
      // vsize, lsize, flag, time/surf; then vsize float32 triplets and lsize int32 indices.
      c.need(16, 'a MESH chunk');
      const vsize = c.int32At(0);
      const lsize = c.int32At(4);
      c.skip(16);
      c.skip(c.sizeOf(vsize, 12, 'vertex count', 'MESH', at));
      c.skip(c.sizeOf(lsize, 4, 'index count', 'MESH', at));
    } else {
      // Every other chunk carries its size in bytes.
      c.need(4, `chunk ${printable(tag)}`);
      const size = c.int32At(0);
      c.skip(4);
      c.skip(c.sizeOf(size, 1, 'size', printable(tag), at));
    }
  }
  return picks;
}

/** A chunk tag as text for messages, e.g. "SIZE", or "\x00\x01..." when it is not printable. */
function printable(tag: string): string {
  const shown = [...tag].map((ch) => (ch >= ' ' && ch <= '~' ? ch : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)).join('');
  return `"${shown}"`;
}

/**
 * One scattered-point object per class (named after it) holding one contour of all its picks;
 * image size from frame.shape (else the picks' extent) and pixel size in Å.
 */
export function formatImod(picks: readonly Pick[], frame: CoordFrame, opts: { objectName?: string } = {}): Uint8Array {
  const groups = new Map<string, Pick[]>();
  for (const p of picks) {
    const name = opts.objectName ?? p.className ?? '';
    const group = groups.get(name);
    if (group) group.push(p);
    else groups.set(name, [p]);
  }
  const size = 8 + MODEL_HEADER_BYTES + 4;
  const total = [...groups.values()].reduce((n, g) => n + 4 + OBJECT_BYTES + 4 + 16 + g.length * 12, size);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const ascii = (pos: number, text: string, max: number) => {
    const encoded = new TextEncoder().encode(text).subarray(0, max - 1);
    bytes.set(encoded, pos);
  };
  ascii(0, 'IMODV1.2', 9);
  ascii(8, 'cryosam picks', 128);
  const extent = (get: (p: Pick) => number) => picks.reduce((n, p) => Math.max(n, Math.ceil(get(p) + 1)), 1);
  const [nz, ny, nx] = frame.shape ?? [extent((p) => p.z), extent((p) => p.y), extent((p) => p.x)];
  [nx, ny, nz, groups.size].forEach((v, i) => view.setInt32(136 + 4 * i, v));
  view.setInt32(156, 1); // drawmode
  view.setInt32(160, 2); // mousemode: model
  view.setInt32(168, 255); // whitelevel
  for (let i = 0; i < 3; i++) view.setFloat32(184 + 4 * i, 1); // x/y/z display scale
  view.setInt32(204, -1); // no current point
  view.setInt32(208, 3); // res
  view.setInt32(212, 128); // thresh
  view.setFloat32(216, frame.voxelSize);
  view.setInt32(220, -10); // units: Å
  let pos = 8 + MODEL_HEADER_BYTES;
  for (const [name, group] of groups) {
    ascii(pos, 'OBJT', 5);
    const obj = pos + 4;
    ascii(obj, name, 64);
    view.setInt32(obj + 128, 1); // contsize
    view.setUint32(obj + 132, 1 << 9); // IMOD_OBJFLAG_SCAT: scattered points, no lines between them
    view.setInt32(obj + 140, 1); // drawmode
    view.setFloat32(obj + 148, 1); // green
    bytes[obj + 161] = 3; // symsize
    bytes[obj + 162] = 1; // linewidth2
    bytes[obj + 163] = 1; // linewidth
    pos = obj + OBJECT_BYTES;
    ascii(pos, 'CONT', 5);
    view.setInt32(pos + 4, group.length);
    pos += 4 + 16;
    for (const p of group) {
      view.setFloat32(pos, p.x + 0.5);
      view.setFloat32(pos + 4, p.y + 0.5);
      view.setFloat32(pos + 8, p.z);
      pos += 12;
    }
  }
  ascii(pos, 'IEOF', 5);
  return bytes;
}
