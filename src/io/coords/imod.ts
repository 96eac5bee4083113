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

function tagAt(view: DataView, pos: number): string {
  return String.fromCharCode(view.getUint8(pos), view.getUint8(pos + 1), view.getUint8(pos + 2), view.getUint8(pos + 3));
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder('latin1').decode(end < 0 ? bytes : bytes.subarray(0, end)).trim();
}

export function parseImod(bytes: Uint8Array, file?: string): Pick[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (pos: number, n: number, what: string) => {
    if (pos + n > bytes.byteLength) throw new CryosamError(`IMOD model truncated in ${what} at byte ${pos}`, file);
  };
  need(0, 8 + MODEL_HEADER_BYTES, 'the model header');
  if (tagAt(view, 0) !== 'IMOD' || !tagAt(view, 4).startsWith('V1.')) {
    throw new CryosamError('not an IMOD binary model (no "IMODV1.x" at the start)', file);
  }
  const picks: Pick[] = [];
  let className: string | undefined;
  let objects = 0;
  let pos = 8 + MODEL_HEADER_BYTES;
  for (;;) {
    need(pos, 4, 'a chunk tag');
    const tag = tagAt(view, pos);
    pos += 4;
    if (tag === 'IEOF') break;
    if (tag === 'OBJT') {
      need(pos, OBJECT_BYTES, 'an object');
      objects++;
      className = cString(bytes.subarray(pos, pos + 64)) || String(objects);
      pos += OBJECT_BYTES;
    } else if (tag === 'CONT') {
      need(pos, 16, 'a contour');
      const psize = view.getInt32(pos);
      pos += 16;
      need(pos, psize * 12, 'contour points');
      if (className === undefined) throw new CryosamError(`contour at byte ${pos - 20} before any object`, file);
      for (let i = 0; i < psize; i++, pos += 12) {
        picks.push({ x: view.getFloat32(pos) - 0.5, y: view.getFloat32(pos + 4) - 0.5, z: view.getFloat32(pos + 8), className });
      }
    } else if (tag === 'MESH') {
      need(pos, 16, 'a mesh');
      pos += 16 + view.getInt32(pos) * 12 + view.getInt32(pos + 4) * 4;
    } else {
      need(pos, 4, `chunk ${tag}`);
      const size = view.getInt32(pos);
      if (size < 0) throw new CryosamError(`chunk "${tag}" at byte ${pos - 4} has negative size ${size}`, file);
      pos += 4 + size;
    }
  }
  return picks;
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
