/**
 * Resumable, checksummed downloads: bytes go to FILE.part (continued with an HTTP Range request
 * after an interruption, here or in a later run), are hashed, and the file is renamed into place
 * only when complete and matching.
 */
import { promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { CryosamError } from '../../errors.js';
import { sha256File } from './hash.js';

export interface DownloadOptions {
  /** Expected sha256; null/undefined = unknown (the computed one is returned). */
  sha256?: string | null;
  onProgress?: (done: number, total: number | undefined) => void;
  /** Extra attempts after a dropped connection, each resuming where the last stopped (default 3). */
  retries?: number;
}

/** Downloads url to dest; returns the file's sha256. */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<string> {
  const part = `${dest}.part`;
  const retries = opts.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchInto(url, part, opts.onProgress);
      break;
    } catch (err) {
      if (err instanceof CryosamError || attempt >= retries) {
        if (err instanceof CryosamError) throw err;
        const have = await fs.stat(part).then((st) => st.size, () => 0);
        // Resuming only makes sense when something arrived; an empty .part is left to no one.
        if (have === 0) {
          await fs.rm(part, { force: true });
          throw new CryosamError(
            `cannot download ${url} (${causeOf(err)}): is this machine offline? Set CRYOSAM_MODELS_BASE_URL (or --base-url) to a ` +
              `mirror you can reach, or copy the model's files into this folder by hand`,
            dest,
          );
        }
        throw new CryosamError(`download of ${url} interrupted after ${have} bytes (${causeOf(err)}); run the same command again to resume`, dest);
      }
    }
  }
  const actual = await sha256File(part);
  if (opts.sha256 && actual !== opts.sha256) {
    await fs.rm(part, { force: true });
    throw new CryosamError(`checksum mismatch for ${url}: got sha256 ${actual}, expected ${opts.sha256}; the partial file was removed`, dest);
  }
  await fs.rename(part, dest);
  return actual;
}

/** fetch() hides the network error (DNS, refused) in `cause`: name it. */
function causeOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: unknown }).cause;
  const detail = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : undefined;
  return detail ? `${err.message}: ${detail}` : err.message;
}

async function fetchInto(url: string, part: string, onProgress: DownloadOptions['onProgress']): Promise<void> {
  const have = await fs.stat(part).then((s) => s.size, () => 0);
  const res = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
  if (res.status === 416 && have > 0) return; // the .part already holds the whole file
  if (res.status !== 200 && res.status !== 206) {
    throw new CryosamError(`HTTP ${res.status} ${res.statusText} for ${url}`, part);
  }
  if (!res.body) throw new CryosamError(`empty response for ${url}`, part);
  const resumed = res.status === 206;
  const start = resumed ? have : 0;
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? start + length : undefined;
  let done = start;
  // Every received chunk is written before the next is read, so an interruption keeps all of it for resuming.
  const out = await fs.open(part, resumed ? 'a' : 'w');
  try {
    for await (const chunk of Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>)) {
      await out.write(chunk as Uint8Array);
      done += (chunk as Uint8Array).length;
      onProgress?.(done, total);
    }
  } finally {
    await out.close();
  }
  if (total !== undefined && done < total) throw new Error(`connection closed after ${done} of ${total} bytes`);
}
