/**
 * A worker thread of the self-template alignment (src/pipeline/self-template.ts): it rebuilds the
 * main thread's ParticleSet over the same shared arrays and runs the jobs it is handed (sample
 * particles, search one block of the rotation grid, refine particles) with the ParticleSet's own
 * methods, so that every number it writes is the one the main thread would compute.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AlignJob, AlignWorkerData, AlignWorkerReply } from './align-workers.js';
import { ParticleSet, ReferenceSpectrum } from './self-template.js';

const data = workerData as AlignWorkerData;
const { set: layout, reference: shared, parts, alignment } = data;
const set = new ParticleSet(layout.tomogram, layout.centres, layout.equivalentRadius, layout.opts, undefined, layout);
const n = set.size;
const block = set.rotatedReferences();
const trial = set.rotatedReferences(1);

function run(job: AlignJob): void {
  if (job.kind === 'sample') return set.sample(job.from, job.to);
  const reference = new ReferenceSpectrum(shared.m, shared.re, shared.im, job.covered ? shared.cover : undefined);
  if (job.kind === 'search') {
    // Scores from −∞ in this part alone: the main thread merges the parts in grid order.
    const scores = parts.scores.subarray(job.part * n, (job.part + 1) * n).fill(-Infinity);
    const best = parts.best.subarray(job.part * n, (job.part + 1) * n).fill(-1);
    return set.search(reference, job.from, job.to, block, scores, best);
  }
  const { scores, rotations } = alignment;
  for (let i = job.from; i < job.to; i++) {
    const refined = set.refine(reference, i, scores[i], rotations.slice(9 * i, 9 * i + 9), trial);
    scores[i] = refined.score;
    rotations.set(refined.rotation, 9 * i);
  }
}

parentPort!.on('message', (job: AlignJob) => {
  try {
    run(job);
    parentPort!.postMessage({ done: true } satisfies AlignWorkerReply);
  } catch (err) {
    parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies AlignWorkerReply);
  }
});
parentPort!.postMessage({ ready: true });
