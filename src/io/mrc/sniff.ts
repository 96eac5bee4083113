/**
 * What a file that fails as an MRC tomogram looks like instead, from its first bytes, so that a
 * STAR file or a TIFF given by mistake is named as such rather than reported as an MRC file with
 * "implausible dimensions 1981817610×…". One table of signatures, used by validate.ts whenever a
 * header does not check out.
 */

/** Magic numbers at fixed offsets: [offset, bytes, what, how it shows]. */
const SIGNATURES: readonly (readonly [number, readonly number[], string, string])[] = [
  [0, [0x49, 0x49, 0x2a, 0x00], 'a TIFF image', "starts with 'II*\\0'"],
  [0, [0x4d, 0x4d, 0x00, 0x2a], 'a TIFF image', "starts with 'MM\\0*'"],
  [0, [0x49, 0x49, 0x2b, 0x00], 'a BigTIFF image', "starts with 'II+\\0'"],
  [0, [0x4d, 0x4d, 0x00, 0x2b], 'a BigTIFF image', "starts with 'MM\\0+'"],
  [0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG image', "starts with '\\x89PNG'"],
  [0, [0xff, 0xd8, 0xff], 'a JPEG image', 'starts with FF D8 FF'],
  [0, [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], 'an HDF5 file', "starts with '\\x89HDF'"],
  [0, [0x50, 0x4b, 0x03, 0x04], 'a zip archive', "starts with 'PK\\3\\4'"],
  [0, [0x50, 0x4b, 0x05, 0x06], 'an empty zip archive', "starts with 'PK\\5\\6'"],
  [0, [0x1f, 0x8b], 'gzip data', 'starts with 1F 8B'],
  [0, [0x42, 0x5a, 0x68], 'bzip2 data', "starts with 'BZh'"],
  [0, [0x28, 0xb5, 0x2f, 0xfd], 'zstd data', 'starts with 28 B5 2F FD'],
  [0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz data', "starts with '\\xFD7zXZ'"],
  [0, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 'a NumPy array (.npy)', "starts with '\\x93NUMPY'"],
  [0, [0x25, 0x50, 0x44, 0x46, 0x2d], 'a PDF document', "starts with '%PDF-'"],
  [0, [0x49, 0x4d, 0x4f, 0x44, 0x56, 0x31], 'an IMOD model (.mod)', "starts with 'IMODV1'"],
  [257, [0x75, 0x73, 0x74, 0x61, 0x72], 'a tar archive', "'ustar' at byte 257"],
];

function startsWith(bytes: Uint8Array, offset: number, magic: readonly number[]): boolean {
  if (bytes.byteLength < offset + magic.length) return false;
  return magic.every((b, i) => bytes[offset + i] === b);
}

/** Text: no NUL or control bytes other than tab, newlines and form feed (bytes ≥ 0x80 may be UTF-8). */
function isText(bytes: Uint8Array): boolean {
  if (bytes.byteLength === 0) return false;
  for (const b of bytes) {
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d) return false;
    if (b === 0x7f) return false;
  }
  return true;
}

/** The first line that is neither blank nor a '#' comment, trimmed. */
function firstContentLine(text: string): string {
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t !== '' && !t.startsWith('#')) return t;
  }
  return '';
}

function quote(text: string, max = 20): string {
  const shown = text.length > max ? `${text.slice(0, max)}…` : text;
  return `'${shown}'`;
}

/**
 * "a STAR file (text starting with 'data_')" and the like when the first bytes of a file say what
 * it is, or undefined when they look like nothing in particular (a damaged MRC file, say).
 * Never claims an MRC file is something else: an MRC header starts with its column count as a
 * 32-bit integer below 2^24, so it holds a zero byte within the first four and is never text.
 */
export function sniffFormat(bytes: Uint8Array): string | undefined {
  for (const [offset, magic, what, how] of SIGNATURES) {
    if (startsWith(bytes, offset, magic)) return `${what} (${how})`;
  }
  // Text: judge by the first 1024 bytes, cut back to a whole line when there are several.
  const sample = bytes.subarray(0, 1024);
  if (!isText(sample)) return undefined;
  const text = new TextDecoder('utf-8').decode(sample);
  const line = firstContentLine(text);
  if (/^(data_|global_)/.test(line)) return `a STAR file (text starting with ${quote(line.split(/\s/)[0])})`;
  if (/^[{[]/.test(line)) return `a JSON file (text starting with '${line[0]}')`;
  if (/^</.test(line)) return `an XML or HTML file (text starting with '<')`;
  if (/^(loop_|_rln)/.test(line)) return `a STAR file (text starting with ${quote(line.split(/\s/)[0])})`;
  const firstLine = text.split(/\r?\n/)[0];
  if (firstLine.includes(',') || firstLine.includes('\t')) {
    return `a CSV or other table of text (first line ${quote(firstLine, 40)})`;
  }
  return `a text file (starting with ${quote(firstLine.trim() || line, 40)})`;
}
