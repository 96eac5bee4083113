/**
 * Background work (loading the tomogram, segmenting, picking) run one at a time, with progress the
 * page polls. One at a time because each job already uses every core.
 */
import type { ProgressEvent } from '../progress.js';
import type { JobStatus } from './protocol.js';
import { errorStatus, HttpError } from './http.js';

type JobResult = NonNullable<JobStatus['result']>;

/** Finished jobs kept for polling; older ones are forgotten. */
const KEEP_FINISHED = 20;

export class JobQueue {
  private readonly jobs = new Map<string, JobStatus>();
  private running: JobStatus | undefined;
  private finished: Promise<void> = Promise.resolve();
  private nextId = 1;

  /** Starts `work` unless another job runs (409); `report` updates the job's progress. */
  start(work: (report: (e: ProgressEvent) => void) => Promise<JobResult>): JobStatus {
    if (this.running) throw new HttpError(409, `another job is running (${this.running.stage}); wait for it to finish`);
    const job: JobStatus = { id: String(this.nextId++), state: 'running', stage: 'starting', done: 0, total: 1 };
    this.jobs.set(job.id, job);
    this.running = job;
    this.forgetOld();
    const report = (e: ProgressEvent) => {
      job.stage = e.stage;
      job.done = e.done;
      job.total = e.total;
    };
    this.finished = work(report).then(
      (result) => {
        job.state = 'done';
        job.result = result;
        job.done = job.total;
      },
      (err: unknown) => {
        job.state = 'failed';
        // The message only (no stack), and whether the request or the server was at fault.
        job.error = err instanceof Error ? err.message : String(err);
        job.errorStatus = errorStatus(err);
      },
    ).finally(() => {
      this.running = undefined;
    });
    return { ...job };
  }

  get(id: string): JobStatus {
    const job = this.jobs.get(id);
    if (!job) throw new HttpError(404, `no job "${id}"`);
    return { ...job };
  }

  /** Resolves when the running job (if any) has finished; used on shutdown. */
  idle(): Promise<void> {
    return this.finished;
  }

  private forgetOld(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.id);
  }
}
