/**
 * Worker threads that align particles to a self-template (src/pipeline/align-worker.ts) over shared
 * memory, handed one job at a time as each becomes free. What the jobs compute and how their
 * results are merged is src/pipeline/self-template.ts's; this module only starts, feeds and stops
 * the threads.
 */
import { Worker } from 'node:worker_threads';
import { CryosamError } from '../errors.js';
import type { ParticleSetLayout } from './self-template.js';

/**
 * Everything shared, once per alignment. Typed arrays on SharedArrayBuffers: the main thread writes
 * each round's reference and the merged search results, the workers the particles' components,
 * their search results and refined alignments. A job's writes are read only after its reply, and
 * a job reads only what was written before it was posted: the message passing orders them.
 */
export interface AlignWorkerData {
  set: ParticleSetLayout;
  /** The round's reference spectrum (ReferenceSpectrum); `cover` is read only by jobs with `covered`. */
  reference: { m: number; re: Float32Array; im: Float32Array; cover: Float32Array };
  /** Each search part's best score and grid index for each particle, part after part. */
  parts: { scores: Float64Array; best: Int32Array };
  /** Each particle's score and rotation (9 numbers, row-major): the search's, then refined in place. */
  alignment: { scores: Float64Array; rotations: Float64Array };
}

export type AlignJob =
  | { kind: 'sample'; from: number; to: number }
  /** Grid rotations from..to-1, results in slot `part` of `parts`. */
  | { kind: 'search'; part: number; from: number; to: number; covered: boolean }
  | { kind: 'refine'; from: number; to: number; covered: boolean };

export type AlignWorkerReply = { done: true } | { error: string };

export class AlignWorkers {
  /** The first worker failure; every later run fails with it. */
  private failure: Error | undefined;
  /** Rejects the run in progress. */
  private abort: ((err: Error) => void) | undefined;
  private closing = false;

  private constructor(private readonly workers: Worker[]) {
    // Listeners for the workers' whole life: an 'error' event without one would end the process.
    for (const w of workers) {
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (!this.closing) this.fail(new CryosamError(`an aligning worker stopped (exit code ${code})`));
      });
    }
  }

  /** Starts `count` workers and waits until each has rebuilt the particle set. */
  static async start(count: number, data: AlignWorkerData): Promise<AlignWorkers> {
    const pool = new AlignWorkers(Array.from({ length: count }, () => new Worker(new URL('./align-worker.js', import.meta.url), { workerData: data })));
    try {
      await pool.guarded(Promise.all(pool.workers.map((w) => new Promise<void>((resolve) => w.once('message', () => resolve())))));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Runs every job, each on the next free worker; `onDone` is called on this thread as each finishes. */
  run(jobs: readonly AlignJob[], onDone: (job: AlignJob) => void = () => {}): Promise<void> {
    let next = 0, finished = 0;
    const work = new Promise<void>((resolve, reject) => {
      if (jobs.length === 0) return resolve();
      const give = (w: Worker) => {
        if (next >= jobs.length) return;
        const job = jobs[next++];
        w.once('message', (reply: AlignWorkerReply) => {
          if ('error' in reply) {
            next = jobs.length;
            reject(new CryosamError(`aligning particles in a worker failed: ${reply.error}`));
            return;
          }
          try {
            onDone(job);
          } catch (err) {
            next = jobs.length;
            reject(err);
            return;
          }
          if (++finished === jobs.length) resolve();
          else give(w);
        });
        w.postMessage(job);
      };
      this.workers.forEach(give);
    });
    return this.guarded(work).catch((err: unknown) => {
      next = jobs.length;
      throw err;
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** `work`, or the first worker failure before it settles. */
  private guarded<T>(work: Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.abort = reject;
      work.then(resolve, reject).finally(() => {
        if (this.abort === reject) this.abort = undefined;
      });
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.abort?.(err);
  }
}
