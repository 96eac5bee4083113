/**
 * ccpem/mrcfile (Debian package python3-mrcfile, under /usr/bin/python3) as the reference MRC
 * implementation in tests. Missing module → the calling test fails: CI must install it.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

async function python(script: string, args: string[]): Promise<string> {
  const { stdout } = await run(PYTHON, ['-c', script, ...args], { maxBuffer: 64 << 20 });
  return stdout;
}

/** mrcfile.validate(file): whether it judges the file valid MRC2014, and what it printed. */
export async function mrcfileValidate(file: string): Promise<{ valid: boolean; messages: string }> {
  const out = await python(
    'import io, sys, mrcfile\nbuf = io.StringIO()\nok = mrcfile.validate(sys.argv[1], print_file=buf)\n' +
      'print("VALID" if ok else "INVALID")\nprint(buf.getvalue())',
    [file],
  );
  return { valid: out.startsWith('VALID'), messages: out };
}

/**
 * Each file as mrcfile reads it, turned into canonical (z, y, x) float32 by transposing with
 * mapc/mapr/maps (mrcfile keeps file order). Mode-0 files whose header maximum exceeds 127 are
 * viewed as uint8, the rule the cryoET data portal documents for unsigned bytes.
 */
export async function mrcfileCanonical(files: string[]): Promise<Float32Array[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-mrcfile-'));
  try {
    const script = `
import sys, numpy as np, mrcfile
out = sys.argv[1]
for i, name in enumerate(sys.argv[2:]):
    with mrcfile.open(name, permissive=True) as m:
        h, d = m.header, m.data
        if d.ndim == 2:
            d = d[np.newaxis]
        if int(h.mode) == 0 and float(h.dmax) > 127:
            d = d.view(np.uint8)
        labels = [int(h.maps), int(h.mapr), int(h.mapc)]
        d = d.transpose([labels.index(3), labels.index(2), labels.index(1)])
        np.ascontiguousarray(d, dtype='<f4').tofile(f'{out}/{i}.f32')
`;
    await python(script, [dir, ...files]);
    return await Promise.all(
      files.map(async (_, i) => {
        const bytes = await fs.readFile(path.join(dir, `${i}.f32`));
        return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      }),
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The values mrcfile reads from `file`, flattened in file order, as float64 numbers. */
export async function mrcfileValues(file: string): Promise<number[]> {
  const out = await python(
    'import sys, json, mrcfile\nwith mrcfile.open(sys.argv[1], permissive=True) as m:\n    print(json.dumps(m.data.ravel().tolist()))',
    [file],
  );
  return JSON.parse(out) as number[];
}
