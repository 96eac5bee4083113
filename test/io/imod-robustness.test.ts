import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CryosamError } from '../../src/errors.js';
import { formatImod } from '../../src/io/coords/imod.js';
import { readPicks } from '../../src/io/coords/index.js';

/**
 * Damaged IMOD models must end in a CryosamError naming the file and the chunk: never an endless
 * loop (a MESH chunk with negative sizes used to send the reader backwards) and never a raw
 * RangeError. The models are parsed in a worker with a time limit, so a loop fails the test
 * instead of hanging it.
 */

interface Outcome {
  picks?: number;
  error?: { name: string; cryosam: boolean; message: string };
}

const moduleUrl = (p: string) => new URL(p, import.meta.url).href;

/** parseImod on each model in a worker; rejects if the worker does not answer within `ms`. */
function parseInWorker(models: Uint8Array[], file: string, ms = 5000): Promise<Outcome[]> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    Promise.all([import(workerData.imod), import(workerData.errors)]).then(([{ parseImod }, { CryosamError }]) => {
      const out = workerData.models.map((m) => {
        try {
          return { picks: parseImod(m, workerData.file).length };
        } catch (err) {
          return { error: { name: err.name, cryosam: err instanceof CryosamError, message: err.message } };
        }
      });
      parentPort.postMessage(out);
    });
  `;
  const worker = new Worker(code, {
    eval: true,
    workerData: { models, file, imod: moduleUrl('../../src/io/coords/imod.js'), errors: moduleUrl('../../src/errors.js') },
  });
  return new Promise<Outcome[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`parseImod did not return within ${ms} ms (endless loop?)`));
    }, ms);
    worker.once('message', (out: Outcome[]) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(out);
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** A valid two-point model with `chunk` inserted before its final IEOF. */
function modelWith(chunk: Uint8Array = new Uint8Array()): Uint8Array {
  const base = formatImod([{ x: 1, y: 2, z: 3, className: 'ribo' }, { x: 4, y: 5, z: 6, className: 'ribo' }], { voxelSize: 10, shape: [8, 8, 8] });
  const body = base.subarray(0, base.length - 4); // drop "IEOF"
  const out = new Uint8Array(body.length + chunk.length + 4);
  out.set(body);
  out.set(chunk, body.length);
  out.set(new TextEncoder().encode('IEOF'), body.length + chunk.length);
  return out;
}

/** A chunk: 4-character tag, then big-endian int32 fields, then `extra` zero bytes. */
function chunk(tag: string, ints: number[], extra = 0): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * ints.length + extra);
  bytes.set(new TextEncoder().encode(tag));
  const view = new DataView(bytes.buffer);
  ints.forEach((v, i) => view.setInt32(4 + 4 * i, v));
  return bytes;
}

const FILE = '/data/picks.mod';

function assertCryosam(outcome: Outcome, ...patterns: RegExp[]): void {
  assert.ok(outcome.error, `expected an error, got ${JSON.stringify(outcome)}`);
  assert.ok(outcome.error.cryosam, `expected CryosamError, got ${outcome.error.name}: ${outcome.error.message}`);
  assert.ok(outcome.error.message.startsWith(`${FILE}: `), outcome.error.message);
  for (const p of patterns) assert.match(outcome.error.message, p);
}

test('the models built here parse (two points, plus a valid MESH chunk)', async () => {
  const [plain, mesh] = await parseInWorker([modelWith(), modelWith(chunk('MESH', [1, 2, 0, 0], 12 + 8))], FILE);
  assert.equal(plain.picks, 2);
  assert.equal(mesh.picks, 2);
});

test('a MESH chunk with negative sizes is rejected naming the file and the chunk, not looped over', async () => {
  const [loop, range, lsize] = await parseInWorker(
    [modelWith(chunk('MESH', [-2, 1, 0, 0])), modelWith(chunk('MESH', [-1000, 0, 0, 0])), modelWith(chunk('MESH', [0, -5, 0, 0]))],
    FILE,
  );
  assertCryosam(loop, /MESH chunk at byte \d+ has vertex count -2, which cannot be negative/);
  assertCryosam(range, /MESH chunk at byte \d+ has vertex count -1000/);
  assertCryosam(lsize, /MESH chunk at byte \d+ has index count -5/);
});

test('counts and sizes larger than the bytes left are rejected before use (MESH, CONT, other chunks)', async () => {
  const outcomes = await parseInWorker(
    [
      modelWith(chunk('MESH', [0x7fffffff, 0x7fffffff, 0, 0])),
      modelWith(chunk('MESH', [1, 0x40000000, 0, 0], 12)),
      modelWith(chunk('CONT', [0x7fffffff, 0, 0, 0])),
      modelWith(chunk('CONT', [-3, 0, 0, 0])),
      modelWith(chunk('SIZE', [0x7fffffff])),
      modelWith(chunk('VIEW', [-8])),
    ],
    FILE,
  );
  assertCryosam(outcomes[0], /MESH chunk at byte \d+ has vertex count 2147483647 \(25769803764 bytes\), but the file has only \d+ bytes left/);
  assertCryosam(outcomes[1], /MESH chunk at byte \d+ has index count 1073741824/);
  assertCryosam(outcomes[2], /CONT chunk at byte \d+ has point count 2147483647/);
  assertCryosam(outcomes[3], /CONT chunk at byte \d+ has point count -3, which cannot be negative/);
  assertCryosam(outcomes[4], /"SIZE" chunk at byte \d+ has size 2147483647/);
  assertCryosam(outcomes[5], /"VIEW" chunk at byte \d+ has size -8, which cannot be negative/);
});

test('a model cut at any byte is a "truncated IMOD model" error, never a RangeError', async () => {
  const full = modelWith(chunk('MESH', [1, 2, 0, 0], 12 + 8));
  const cuts = Array.from({ length: full.length }, (_, n) => full.subarray(0, n));
  const outcomes = await parseInWorker(cuts, FILE);
  outcomes.forEach((o, n) => {
    assert.ok(o.error, `cut at ${n}: parsed`);
    assert.ok(o.error.cryosam, `cut at ${n}: ${o.error.name}: ${o.error.message}`);
    assert.match(o.error.message, /truncated IMOD model/, `cut at ${n}`);
  });
});

test('randomly damaged models end in a result or a CryosamError naming the file', async () => {
  const full = modelWith(chunk('MESH', [1, 2, 0, 0], 12 + 8));
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const models: Uint8Array[] = [];
  for (let k = 0; k < 2000; k++) {
    const m = Uint8Array.from(full);
    // Damage past the "IMODV1.2" stamp, where the chunks and counts are.
    for (let e = 0; e < 1 + Math.floor(random() * 4); e++) m[8 + Math.floor(random() * (m.length - 8))] = Math.floor(random() * 256);
    models.push(m);
  }
  const outcomes = await parseInWorker(models, FILE, 20000);
  for (const o of outcomes) if (o.error) assertCryosam(o);
});

let dir: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-imod-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('readPicks names the .mod file and the chunk', async () => {
  const file = path.join(dir, 'mesh.mod');
  // vsize −1000 (not −2, which used to loop forever in this thread) used to escape as a RangeError.
  await fs.writeFile(file, modelWith(chunk('MESH', [-1000, 0, 0, 0])));
  await assert.rejects(readPicks(file, { voxelSize: 10 }), (err: unknown) => {
    assert.ok(err instanceof CryosamError, String(err));
    assert.match(err.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: broken IMOD model: MESH chunk at byte \\d+ has vertex count -1000`));
    return true;
  });
});
