/**
 * The MRC2014 header as one documented structure (https://www.ccpem.ac.uk/mrc_format/mrc2014.php),
 * decoded from and encoded to its 1024 bytes. Checking that a header makes sense is a separate
 * step (validate.ts), so a broken file can still be described before it is rejected.
 */
import type { Shape3, VoxelSize } from '../../volume/volume.js';

export const HEADER_BYTES = 1024;
/** "IMOD" read as a little-endian int32 at byte 152: marks the IMOD flags word at byte 156. */
export const IMOD_STAMP = 1146047817;
/** IMOD flags bit 0: mode-0 bytes are signed. With the IMOD stamp and this bit clear they are unsigned. */
export const IMOD_FLAG_SIGNED_BYTES = 1;
const LABEL_BYTES = 80;
const LABEL_COUNT = 10;

/** Every mode of the MRC2014 standard (and IMOD's 4-bit mode 101), with what a voxel holds. */
export const MODE_NAMES: Readonly<Record<number, string>> = {
  0: 'int8',
  1: 'int16',
  2: 'float32',
  3: 'complex int16',
  4: 'complex float32',
  6: 'uint16',
  12: 'float16',
  101: '4-bit unsigned',
};
/** Bytes per voxel of the modes this package reads. */
export const MODE_BYTES: Readonly<Record<number, number>> = { 0: 1, 1: 2, 2: 4, 6: 2, 12: 2 };

export interface MrcHeader {
  // --- Stored fields, in file order (byte offset in brackets) ---
  /** [0] Columns per row (fastest-varying file axis). */
  nx: number;
  /** [4] Rows per section. */
  ny: number;
  /** [8] Sections (images in a stack). */
  nz: number;
  /** [12] Data type: 0 int8 (or unsigned bytes, see int8Unsigned), 1 int16, 2 float32, 6 uint16, 12 float16. */
  mode: number;
  /** [16] Index of the first column, row and section within the unit cell (kept, not applied). */
  nxstart: number;
  nystart: number;
  nzstart: number;
  /** [28] Sampling intervals along X, Y, Z of the unit cell; voxel size = cella / m. */
  mx: number;
  my: number;
  mz: number;
  /** [40] Cell dimensions along X, Y, Z in Å. */
  cella: VoxelSize;
  /** [52] Cell angles in degrees. */
  cellb: { alpha: number; beta: number; gamma: number };
  /** [64] Which axis (1 = X, 2 = Y, 3 = Z) the columns, rows and sections run along. */
  mapc: number;
  mapr: number;
  maps: number;
  /** [76] Minimum, maximum and mean density as stored (not recomputed). */
  dmin: number;
  dmax: number;
  dmean: number;
  /** [88] Space group: 0 = image stack, 1 = single volume, 401–630 = volume stack. */
  ispg: number;
  /** [92] Extended header size in bytes; the data start after it. */
  nsymbt: number;
  /** [104] Extended header type, e.g. "FEI1", "CCP4", "MRCO", "SERI", "AGAR"; "" when blank. */
  exttyp: string;
  /** [108] Format version, 20140 or 20141 for MRC2014. */
  nversion: number;
  /** [152] IMOD_STAMP when the file was written by IMOD-aware software, else anything. */
  imodStamp: number;
  /** [156] IMOD flags, meaningful only with the stamp (bit 0: signed bytes). */
  imodFlags: number;
  /** [196] Origin along X, Y, Z in Å. */
  origin: VoxelSize;
  /** [208] Format identifier, "MAP " in MRC2014 files (trailing NULs dropped, blanks kept). */
  map: string;
  /** [212] Machine stamp bytes: 0x44 0x44 (or 0x44 0x41) little-endian, 0x11 0x11 big-endian. */
  machst: [number, number, number, number];
  /** [216] Standard deviation of the density about its mean (negative when not computed). */
  rms: number;
  /** [220] Number of labels in use. */
  nlabl: number;
  /** [224] Up to ten 80-character text labels, trailing blanks removed. */
  labels: string[];

  // --- Derived from the fields above ---
  /** Byte order of the file (from the machine stamp, guessed from the dimensions when the stamp is unset). */
  littleEndian: boolean;
  /** Canonical (nz, ny, nx): sizes along Z, Y, X after applying mapc/mapr/maps. */
  shape: Shape3;
  /**
   * Voxel size along X, Y, Z in Å (cella / mx,my,mz, to 7 significant digits). 0 along an axis whose cell or sampling is 0;
   * readers still load such files, and commands needing Å must reject them (requireVoxelSize).
   */
  voxelSize: VoxelSize;
  /** Byte offset of the first voxel: 1024 + nsymbt. */
  dataOffset: number;
  /** Bytes of voxel data the header promises (0 for modes this package cannot read). */
  dataBytes: number;
  /** An image stack rather than a volume (space group 0 with several sections, or a .mrcs file). */
  isStack: boolean;
  /** Mode-0 bytes hold unsigned values 0..255 (IMOD flags, or a header maximum above 127). */
  int8Unsigned: boolean;
}

/** Dimensions and mode a real MRC file could have; how byte order is guessed and non-MRC files are told apart. */
export function isSaneDims(nx: number, ny: number, nz: number, mode: number): boolean {
  const ok = (n: number) => Number.isInteger(n) && n >= 1 && n < 1 << 24;
  return ok(nx) && ok(ny) && ok(nz) && mode in MODE_NAMES;
}

function looksLikeMrc(bytes: Uint8Array, littleEndian: boolean): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const i = (o: number) => view.getInt32(o, littleEndian);
  return isSaneDims(i(0), i(4), i(8), i(12));
}

function detectByteOrder(bytes: Uint8Array): boolean {
  const stamp = bytes[212];
  if (stamp === 0x44 || stamp === 0x41) return true;
  if (stamp === 0x11) return false;
  // Stamp unset (old writers): trust whichever byte order gives sane dimensions and mode.
  return looksLikeMrc(bytes, true) || !looksLikeMrc(bytes, false);
}

/** Text of a fixed-width field without trailing NULs (and trailing blanks too when `trimBlanks`). */
function ascii(bytes: Uint8Array, trimBlanks = true): string {
  return String.fromCharCode(...bytes).replace(trimBlanks ? /[\0\s]+$/ : /\0+$/, '');
}

/**
 * Decodes the 1024 header bytes. Never rejects a file by its content (validateHeader does).
 * `isStackFile`: the file name says image stack (.mrcs).
 */
export function parseMrcHeader(bytes: Uint8Array, isStackFile = false): MrcHeader {
  if (bytes.byteLength < HEADER_BYTES) throw new RangeError(`MRC header needs ${HEADER_BYTES} bytes`);
  const le = detectByteOrder(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const i = (o: number) => view.getInt32(o, le);
  const f = (o: number) => view.getFloat32(o, le);
  const xyz = (o: number): VoxelSize => ({ x: f(o), y: f(o + 4), z: f(o + 8) });

  const nx = i(0), ny = i(4), nz = i(8), mode = i(12);
  const mx = i(28), my = i(32), mz = i(36);
  const cella = xyz(40);
  const mapc = i(64), mapr = i(68), maps = i(72);
  const dmax = f(80);
  const ispg = i(88);
  const nsymbt = i(92);
  const imodStamp = view.getInt32(152, true);
  const imodFlags = view.getInt32(156, true);
  const labels: string[] = [];
  for (let k = 0; k < LABEL_COUNT; k++) {
    const start = 224 + k * LABEL_BYTES;
    labels.push(ascii(bytes.subarray(start, start + LABEL_BYTES)));
  }
  const nlabl = i(220);

  // Sizes along X, Y, Z: the file axis labelled 1 (X) has the size of whichever of nx/ny/nz runs along it.
  const sizeAlong = (label: number) => (mapc === label ? nx : mapr === label ? ny : maps === label ? nz : 0);
  // Rounded to float32's 7 significant digits: cella is float32, so 80.88 Å / 6 would read 13.479999542, not 13.48.
  const voxelAlong = (cell: number, m: number) => (m > 0 && cell > 0 ? Number((cell / m).toPrecision(7)) : 0);
  const bytesPerVoxel = MODE_BYTES[mode] ?? 0;

  return {
    nx, ny, nz, mode,
    nxstart: i(16), nystart: i(20), nzstart: i(24),
    mx, my, mz, cella,
    cellb: { alpha: f(52), beta: f(56), gamma: f(60) },
    mapc, mapr, maps,
    dmin: f(76), dmax, dmean: f(84),
    ispg, nsymbt,
    exttyp: ascii(bytes.subarray(104, 108)),
    nversion: i(108),
    imodStamp, imodFlags,
    origin: xyz(196),
    map: ascii(bytes.subarray(208, 212), false),
    machst: [bytes[212], bytes[213], bytes[214], bytes[215]],
    rms: f(216),
    nlabl,
    labels: labels.slice(0, Math.max(0, Math.min(nlabl, LABEL_COUNT))),
    littleEndian: le,
    shape: [sizeAlong(3), sizeAlong(2), sizeAlong(1)],
    voxelSize: { x: voxelAlong(cella.x, mx), y: voxelAlong(cella.y, my), z: voxelAlong(cella.z, mz) },
    dataOffset: HEADER_BYTES + nsymbt,
    dataBytes: bytesPerVoxel * nx * ny * nz,
    isStack: isStackFile || (ispg === 0 && nz > 1),
    int8Unsigned:
      mode === 0 && (imodStamp === IMOD_STAMP ? (imodFlags & IMOD_FLAG_SIGNED_BYTES) === 0 : dmax > 127),
  };
}

/** What a writer decides; everything else in the header follows from it. */
export interface MrcHeaderFields {
  shape: Shape3;
  mode: number;
  voxelSize: VoxelSize;
  origin: VoxelSize;
  dmin: number;
  dmax: number;
  dmean: number;
  rms: number;
  /** Sets the IMOD stamp and flags so that mode-0 signedness is explicit. */
  int8Unsigned?: boolean;
  labels: string[];
}

/** Encodes a little-endian MRC2014 header for a volume in canonical order (mapc/mapr/maps = 1,2,3). */
export function encodeMrcHeader(h: MrcHeaderFields): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  const i = (o: number, v: number) => view.setInt32(o, v, true);
  const f = (o: number, v: number) => view.setFloat32(o, v, true);
  const text = (o: number, s: string, length: number) => {
    for (let k = 0; k < length; k++) bytes[o + k] = k < s.length ? s.charCodeAt(k) & 0x7f : 0x20;
  };
  const [nz, ny, nx] = h.shape;
  i(0, nx); i(4, ny); i(8, nz); i(12, h.mode);
  i(28, nx); i(32, ny); i(36, nz);
  f(40, nx * h.voxelSize.x); f(44, ny * h.voxelSize.y); f(48, nz * h.voxelSize.z);
  f(52, 90); f(56, 90); f(60, 90);
  i(64, 1); i(68, 2); i(72, 3);
  f(76, h.dmin); f(80, h.dmax); f(84, h.dmean);
  i(88, 1);
  i(108, 20141);
  if (h.mode === 0 && h.int8Unsigned !== undefined) {
    i(152, IMOD_STAMP);
    i(156, h.int8Unsigned ? 0 : IMOD_FLAG_SIGNED_BYTES);
  }
  f(196, h.origin.x); f(200, h.origin.y); f(204, h.origin.z);
  text(208, 'MAP ', 4);
  bytes.set([0x44, 0x44, 0, 0], 212);
  f(216, h.rms);
  const labels = h.labels.slice(0, LABEL_COUNT);
  i(220, labels.length);
  labels.forEach((label, k) => text(224 + k * LABEL_BYTES, label, LABEL_BYTES));
  return bytes;
}
