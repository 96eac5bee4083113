import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { readPicks } from '../../src/io/coords/index.js';
import { MrcReader, readMrc, readMrcHeader } from '../../src/io/mrc/index.js';

/**
 * Inputs that are not regular files (a named pipe, a folder such as a Zarr store) are refused
 * before they are opened: opening a FIFO for reading blocks until a writer comes, i.e. forever.
 */

let dir: string;
let fifo: string;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-inputs-'));
  fifo = path.join(dir, 'tomo.mrc');
  execFileSync('mkfifo', [fifo]);
});
after(async () => {
  // Should a reader still be blocked opening the FIFO (the bug this guards against), a writer
  // opening and closing it lets that open return, so the test process can exit.
  for (let k = 0; k < 4; k++) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      break; // ENXIO: nobody is reading
    }
  }
  await fs.rm(dir, { recursive: true, force: true });
});

/** Rejects with a CryosamError naming `file` and matching `problem`, within 5 s (a blocked open fails the test). */
async function rejectsPromptly(promise: Promise<unknown>, file: string, problem: RegExp): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within 5 s for ${file} (blocked opening it?)`)), 5000);
  });
  try {
    await assert.rejects(Promise.race([promise, timeout]), (err: unknown) => {
      assert.ok(err instanceof CryosamError, `expected CryosamError, got ${String(err)}`);
      assert.ok(err.message.startsWith(`${file}: `), err.message);
      assert.match(err.message, problem);
      return true;
    });
  } finally {
    clearTimeout(timer);
  }
}

test('a named pipe given as a tomogram is refused at once by readMrc, readMrcHeader and MrcReader.open', async () => {
  await rejectsPromptly(readMrc(fifo), fifo, /not a regular file \(a named pipe\)/);
  await rejectsPromptly(readMrcHeader(fifo), fifo, /not a regular file \(a named pipe\)/);
  await rejectsPromptly(MrcReader.open(fifo), fifo, /not a regular file \(a named pipe\)/);
});

test('a named pipe given as a coordinate file is refused at once by readPicks', async () => {
  const picks = path.join(dir, 'picks.star');
  execFileSync('mkfifo', [picks]);
  try {
    await rejectsPromptly(readPicks(picks, { voxelSize: 10 }), picks, /not a regular file \(a named pipe\)/);
  } finally {
    try {
      closeSync(openSync(picks, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // nobody reading: nothing to unblock
    }
  }
});

test('a folder (e.g. a Zarr store) given as a tomogram or coordinate file is named as a folder', async () => {
  const zarr = path.join(dir, 'tomo.zarr');
  await fs.mkdir(zarr);
  await rejectsPromptly(readMrc(zarr), zarr, /is a folder, not a file/);
  await rejectsPromptly(readPicks(zarr, { voxelSize: 10 }), zarr, /is a folder, not a file/);
});

test('a missing file is "file not found" for tomograms and coordinate files alike', async () => {
  const missing = path.join(dir, 'absent.star');
  await rejectsPromptly(readPicks(missing, { voxelSize: 10 }), missing, /file not found/);
  await rejectsPromptly(readMrc(path.join(dir, 'absent.mrc')), path.join(dir, 'absent.mrc'), /file not found/);
});
