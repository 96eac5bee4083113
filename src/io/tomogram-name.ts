/**
 * The one rule for a tomogram's name from a file name or a coordinate file's tomogram column, so
 * that "tomograms/TS_01.mrc.gz", "TS_01.mrc", "TS_01.tomostar", "TS_01.mrc:mrc" (RELION) and
 * "TS_01" all name tomogram "TS_01": picks are matched to the tomogram and written under it by it.
 */

/** Compression suffixes, removed once. */
const COMPRESSION = /\.(gz|bz2)$/i;
/** Volume and coordinate-file extensions, removed repeatedly ("TS_01.tomostar.mrc" → "TS_01"). */
const EXTENSION = /\.(mrc|rec|map|st|mrcs|ccp4|tomostar|star)$/i;

/**
 * The name without folders (/ or \), RELION's ":mrc" suffix, a compression suffix (.gz, .bz2) and
 * volume/coordinate extensions (.mrc .rec .map .st .mrcs .ccp4 .tomostar .star). An extension that
 * is the whole name (".mrc") is kept, so the name is never empty unless the input is.
 */
export function tomogramName(file: string): string {
  let base = file.replace(/:mrc$/i, '').split(/[\\/]/).pop() ?? '';
  base = base.replace(COMPRESSION, '');
  for (let m = EXTENSION.exec(base); m && m.index > 0; m = EXTENSION.exec(base)) base = base.slice(0, m.index);
  return base;
}
