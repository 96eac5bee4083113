import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ensureSlurm, waitForJobs } from '../helpers/slurm.js';

// Slow (npm run test:all; ~5 s when the cluster is up, plus ~10 s to install and start it): the one-node
// Slurm cluster of .ci/slurm-up.sh runs what `cryosam batch --slurm --submit` needs, an array job and a merge
// job that depends on it (afterany), and test/helpers/slurm.ts waits for jobs and reports failed ones.
// Needs root (the script installs slurm-wlm and munge and starts the daemons).

const exec = promisify(execFile);
let dir = '';

async function sbatch(args: string[]): Promise<string> {
  const { stdout } = await exec('sbatch', ['--parsable', '-D', dir, '-o', path.join(dir, 'slurm-%A_%a.out'), ...args], {
    timeout: 30_000,
  });
  const id = stdout.trim().split(';')[0]!;
  assert.match(id, /^\d+$/, `sbatch printed ${JSON.stringify(stdout)}`);
  return id;
}

before(async () => {
  await ensureSlurm();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-slurm-'));
});

after(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

test('an array job and a merge job that depends on it (afterany) run in order', async () => {
  const array = await sbatch(['--array=0-1', '-J', 'cryosam-test-tasks', '--wrap', 'sleep 1; echo $SLURM_ARRAY_TASK_ID > task_$SLURM_ARRAY_TASK_ID']);
  const merge = await sbatch([`--dependency=afterany:${array}`, '-J', 'cryosam-test-merge', '--wrap', 'cat task_0 task_1 > merged']);
  await waitForJobs([array, merge], 60_000);
  assert.equal(await fs.readFile(path.join(dir, 'task_0'), 'utf8'), '0\n');
  assert.equal(await fs.readFile(path.join(dir, 'task_1'), 'utf8'), '1\n');
  assert.equal(await fs.readFile(path.join(dir, 'merged'), 'utf8'), '0\n1\n');
});

test('waitForJobs reports a failed job, and a job whose dependency can never be satisfied', async () => {
  const failing = await sbatch(['-J', 'cryosam-test-fail', '--wrap', 'exit 3']);
  await assert.rejects(waitForJobs([failing], 60_000), /did not complete: \d+ FAILED.*exit 3:0/);
  const orphan = await sbatch([`--dependency=afterok:${failing}`, '-J', 'cryosam-test-orphan', '--wrap', 'true']);
  try {
    await assert.rejects(waitForJobs([orphan], 60_000), /can never run: \d+ PENDING \(DependencyNeverSatisfied\)/);
  } finally {
    await exec('scancel', [orphan]);
  }
});
