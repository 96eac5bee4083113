/**
 * Worker threads that segment proposals (src/pipeline/segment-worker.ts), handed one proposal at a
 * time as each becomes free. The tomogram is shared with them, not copied.
 */
import { Worker } from 'node:worker_threads';
import type { EngineOptions } from '../engines/registry.js';
import { CryosamError } from '../errors.js';
import type { IntensityStats } from '../volume/stats.js';
import type { Shape3, VoxelSize } from '../volume/volume.js';
import type { ResolvedSegmentOptions } from './self-prompting.js';
import type { SharedEmbeddingsLayout } from './shared-embeddings.js';
import type { ParticleMask, VoxelPoint } from './types.js';

export interface SegmentWorkerData {
  tomogram: { buffer: SharedArrayBuffer; shape: Shape3; voxelSize: VoxelSize };
  engine: EngineOptions;
  volumeStats: IntensityStats | undefined;
  segment: ResolvedSegmentOptions;
  cacheDir: string | undefined;
  cacheLimitBytes: number;
  /** The embedding cache key prefix of the main thread's store, so that both use the same entries. */
  keyPrefix: string;
  /** Slice embeddings shared by all workers, when the engine allows (src/pipeline/shared-embeddings.ts). */
  sharedEmbeddings: SharedEmbeddingsLayout | undefined;
  /** This worker embeds slots index, index + count, … of the shared arena (every slice, z then y then x) before anything else. */
  prefill?: { index: number; count: number } | undefined;
}

export interface SegmentWorkerRequest {
  id: number;
  peak: VoxelPoint;
}

export type SegmentWorkerReply = { id: number; mask: ParticleMask | undefined; embedded: number } | { id: number; error: string };

interface Job {
  id: number;
  peak: VoxelPoint;
  resolve: (mask: ParticleMask | undefined) => void;
  reject: (err: Error) => void;
}

export class SegmentWorkers {
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<number, { job: Job; worker: Worker }>();
  private readonly embeddedBy = new Map<Worker, number>();
  private readonly dead = new Set<Worker>();
  private nextId = 0;

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on('message', (reply: SegmentWorkerReply) => this.finish(w, reply));
      w.on('error', (err) => this.fail(w, err));
    }
    this.idle.push(...workers);
  }

  /**
   * Starts `count` workers and waits until each has its engines and, with `prefill`, has embedded
   * its share of every slice into the shared arena (slots k, k + count, …): a pick that segments
   * many proposals visits nearly every slice, and workers that embedded them on demand would wait
   * for each other's slices. The workers begin on their own, so they work while this thread is busy.
   */
  static async start(count: number, data: SegmentWorkerData, prefill: boolean): Promise<SegmentWorkers> {
    // Only into a shared arena: embeddings of a worker's own would help no other worker.
    const prefilling = prefill && data.sharedEmbeddings !== undefined;
    const workers = Array.from({ length: count }, (_, index) => {
      const own: SegmentWorkerData = { ...data, prefill: prefilling ? { index, count } : undefined };
      return new Worker(new URL('./segment-worker.js', import.meta.url), { workerData: own });
    });
    const embedded = new Map<Worker, number>();
    // Listened for from the start: a worker may be done before this thread next looks.
    const waits = workers.map((w) => {
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve, reject) => {
        const onMessage = (m: { ready?: boolean; prefilled?: boolean; embedded?: number }) => {
          if (m.prefilled) embedded.set(w, m.embedded ?? 0);
          if (m.prefilled || (m.ready && !prefilling)) (done(), resolve());
        };
        const onError = (err: Error) => (done(), reject(err));
        const onExit = (code: number) => (done(), reject(new CryosamError(`a segmenting worker stopped while starting (exit code ${code})`)));
        done = () => {
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        };
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
      });
      return finished;
    });
    try {
      await Promise.all(waits);
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    const pool = new SegmentWorkers(workers);
    for (const [w, n] of embedded) pool.embeddedBy.set(w, n);
    return pool;
  }

  /** The mask under a proposal, made by the next free worker. */
  segment(peak: VoxelPoint): Promise<ParticleMask | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, peak: { x: peak.x, y: peak.y, z: peak.z }, resolve, reject });
      this.dispatch();
    });
  }

  /** Slices the workers embedded. */
  get embedded(): number {
    let n = 0;
    for (const v of this.embeddedBy.values()) n += v;
    return n;
  }

  /** Whether close() was called. */
  closed = false;

  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(job.id, { job, worker });
      worker.postMessage({ id: job.id, peak: job.peak } satisfies SegmentWorkerRequest);
    }
  }

  private finish(worker: Worker, reply: SegmentWorkerReply | { ready: true } | { prefilled: true }): void {
    if (!('id' in reply)) return;
    const run = this.running.get(reply.id);
    if (!run) return;
    this.running.delete(reply.id);
    this.idle.push(worker);
    if ('error' in reply) run.job.reject(new CryosamError(`segmenting a proposal in a worker failed: ${reply.error}`));
    else {
      this.embeddedBy.set(worker, reply.embedded);
      run.job.resolve(reply.mask);
    }
    this.dispatch();
  }

  /** A worker that died: its job fails; with no worker left, so does every queued job. */
  private fail(worker: Worker, err: Error): void {
    this.dead.add(worker);
    for (const [id, run] of this.running) {
      if (run.worker !== worker) continue;
      this.running.delete(id);
      run.job.reject(err);
    }
    if (this.dead.size === this.workers.length) for (const job of this.queue.splice(0)) job.reject(err);
  }
}
