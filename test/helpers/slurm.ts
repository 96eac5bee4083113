/**
 * A real one-node Slurm cluster for the tests that submit sbatch jobs: ensureSlurm() brings it up (or checks
 * it is up) with .ci/slurm-up.sh, and waitForJobs() waits for submitted jobs and checks they completed.
 * Needs root (the script installs Debian's slurm-wlm and munge if missing and starts the daemons).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/paths.js';

const exec = promisify(execFile);

/** .ci/slurm-up.sh in the project root (from sources or from dist/). */
export const slurmUpScript = path.join(packageRoot(), '.ci', 'slurm-up.sh');

let up: Promise<void> | undefined;

/**
 * Runs .ci/slurm-up.sh (once per process; a failure is retried on the next call) and throws with its output
 * if it fails. Quick (a fraction of a second) when the cluster is already up; an install takes ~10 s or more.
 */
export function ensureSlurm(): Promise<void> {
  up ??= (async () => {
    try {
      await exec('bash', [slurmUpScript], { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { code?: number | string; signal?: string; stdout?: string; stderr?: string };
      up = undefined;
      throw new Error(
        `${slurmUpScript} failed (${e.signal ? `signal ${e.signal}` : `exit ${e.code}`}):\n${e.stdout ?? ''}${e.stderr ?? ''}`,
      );
    }
  })();
  return up;
}

/** Job states after which a job never runs again (a job in any other state may still run). */
const FINAL_STATES = new Set([
  'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE',
]);

/** One job record of `scontrol -o show job` (an array job gives one per task). */
interface JobRecord {
  id: string;
  state: string;
  reason: string;
  exitCode: string;
}

function parseJobs(text: string): JobRecord[] {
  return text
    .split('\n')
    .filter((line) => line.includes('JobId='))
    .map((line) => {
      const field = (key: string) => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)?.[1] ?? '';
      const arrayJob = field('ArrayJobId');
      const arrayTask = field('ArrayTaskId');
      return {
        id: arrayJob && arrayTask ? `${arrayJob}_${arrayTask}` : field('JobId'),
        state: field('JobState'),
        reason: field('Reason'),
        exitCode: field('ExitCode'),
      };
    });
}

/** `scontrol -o show job ID` for each id; a job scontrol doesn't know becomes a record in state UNKNOWN. */
async function showJobs(ids: string[]): Promise<JobRecord[]> {
  const records: JobRecord[] = [];
  for (const id of ids) {
    try {
      const { stdout } = await exec('scontrol', ['-o', 'show', 'job', id], { timeout: 30_000 });
      const found = parseJobs(stdout);
      records.push(...(found.length ? found : [{ id, state: 'UNKNOWN', reason: 'not in scontrol', exitCode: '' }]));
    } catch (err) {
      const msg = String((err as { stderr?: string }).stderr ?? err).trim();
      records.push({ id, state: 'UNKNOWN', reason: msg, exitCode: '' });
    }
  }
  return records;
}

const describe = (jobs: JobRecord[]) =>
  jobs.map((j) => `${j.id} ${j.state}${j.reason && j.reason !== 'None' ? ` (${j.reason})` : ''}${j.exitCode ? ` exit ${j.exitCode}` : ''}`).join(', ');

/**
 * Waits until none of the jobs (ids as sbatch --parsable prints them; an array job id covers all its tasks)
 * is pending or running any more, polling squeue, then checks with `scontrol show job` that every job (every
 * task of an array) ended COMPLETED. Throws with the jobs' states if one did not, if one waits on a
 * dependency that can never be satisfied, or on timeout. Finished jobs stay in scontrol for MinJobAge
 * (3600 s in the slurm.conf that .ci/slurm-up.sh writes); there is no accounting, so no sacct.
 */
export async function waitForJobs(ids: string[], timeoutMs: number): Promise<void> {
  const jobIds = ids.map((id) => id.trim().split(';')[0]!).filter(Boolean);
  if (jobIds.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let active: string[] = [];
    try {
      const { stdout } = await exec('squeue', ['-h', '-r', '-j', jobIds.join(','), '-o', '%i %T %r'], { timeout: 30_000 });
      active = stdout.split('\n').filter((line) => line.trim());
    } catch (err) {
      // squeue exits 1 ("Invalid job id specified") when none of the ids is known any more: nothing left to wait
      // for, and the check below reports the unknown ones.
      if (!/Invalid job id/i.test(String((err as { stderr?: string }).stderr ?? ''))) throw err;
    }
    if (active.length === 0) break;
    if (active.some((line) => / DependencyNeverSatisfied$/.test(line))) {
      throw new Error(`Slurm jobs can never run: ${describe(await showJobs(jobIds))}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`Slurm jobs still not finished after ${timeoutMs} ms: ${describe(await showJobs(jobIds))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const jobs = await showJobs(jobIds);
  const bad = jobs.filter((j) => j.state !== 'COMPLETED');
  if (bad.length > 0) {
    const notFinal = bad.filter((j) => !FINAL_STATES.has(j.state) && j.state !== 'UNKNOWN');
    throw new Error(
      `Slurm jobs did not complete: ${describe(bad)}${notFinal.length ? ' (squeue no longer lists them but they are not finished)' : ''}; all: ${describe(jobs)}`,
    );
  }
}
