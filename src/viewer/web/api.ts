/**
 * The page's calls to its server. The token from the page address goes in a header on every call.
 */
import type { ErrorResponse, JobStatus, ViewAxis } from '../protocol.js';

const token = new URLSearchParams(location.search).get('token') ?? '';

export interface SliceImage {
  data: Float32Array;
  width: number;
  height: number;
  downsample: number;
}

export interface OverlayImage {
  bits: Uint8Array;
  width: number;
  height: number;
  downsample: number;
}

/** A failed call: the server's message, its status, and whether it refused to replace an existing file. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly exists: boolean,
  ) {
    super(message);
  }
}

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, { ...init, headers: { ...(init.headers ?? {}), 'x-cryosam-token': token } });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({ error: res.statusText }))) as ErrorResponse;
    throw new ApiError(body.error, res.status, body.exists === true);
  }
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await call(path)).json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as T;
}

function dims(res: Response): { width: number; height: number; downsample: number } {
  return {
    width: Number(res.headers.get('x-width')),
    height: Number(res.headers.get('x-height')),
    downsample: Number(res.headers.get('x-downsample')),
  };
}

export async function fetchSlice(axis: ViewAxis, index: number, ds: number, sigma: number, signal: AbortSignal): Promise<SliceImage> {
  const res = await call(`/api/slice?axis=${axis}&index=${index}&ds=${ds}&sigma=${sigma}`, { signal });
  return { data: new Float32Array(await res.arrayBuffer()), ...dims(res) };
}

export async function fetchOverlay(axis: ViewAxis, index: number, ds: number, signal: AbortSignal): Promise<OverlayImage> {
  const res = await call(`/api/overlay?axis=${axis}&index=${index}&ds=${ds}`, { signal });
  return { bits: new Uint8Array(await res.arrayBuffer()), ...dims(res) };
}

/** Polls a job until it ends, passing each status to `onStatus`. */
export async function waitForJob(job: JobStatus, onStatus: (s: JobStatus) => void): Promise<JobStatus> {
  let status = job;
  onStatus(status);
  while (status.state === 'running') {
    await new Promise((r) => setTimeout(r, 250));
    status = await getJson<JobStatus>(`/api/jobs/${job.id}`);
    onStatus(status);
  }
  // As a refused request would: the message, and 400 when the click (not the server) was the problem.
  if (status.state === 'failed') throw new ApiError(status.error ?? 'job failed', status.errorStatus ?? 500, false);
  return status;
}

/** A same-origin link that downloads a file the server exported (the token goes in the query). */
export function downloadUrl(path: string): string {
  return `${path}&token=${encodeURIComponent(token)}`;
}
