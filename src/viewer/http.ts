/**
 * Small HTTP plumbing for the viewer: request errors that become 4xx JSON answers, a size-limited
 * JSON body reader, and query-parameter parsing that rejects anything malformed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CryosamError } from '../errors.js';

/**
 * A problem with the request itself; the server answers `status` with {"error": message, ...details}
 * (details let the page tell cases apart, e.g. {"exists": true} for an export it may overwrite).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * The status an error is answered with, whether it ends a request or a job: an HttpError's own;
 * 400 for a CryosamError (input the request pointed at was refused by a reader or writer, or the
 * pipeline found nothing of the asked kind at a click); 500 for anything else (a fault).
 */
export function errorStatus(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  return err instanceof CryosamError ? 400 : 500;
}

/** Largest JSON body accepted (exports carry every pick, so allow a generous but bounded size). */
export const MAX_BODY_BYTES = 1024 * 1024;

export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    // Stop buffering at once; the error answer closes the connection, dropping the rest.
    if (size > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'request body is empty; expected JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function sendBinary(res: ServerResponse, bytes: Uint8Array, headers: Record<string, string | number>): void {
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': bytes.byteLength,
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(bytes);
}

/** An integer query parameter in [min, max]; `fallback` when absent. */
export function intParam(query: URLSearchParams, name: string, min: number, max: number, fallback?: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') {
    if (fallback === undefined) throw new HttpError(400, `missing query parameter "${name}"`);
    return fallback;
  }
  if (!/^-?\d+$/.test(raw)) throw new HttpError(400, `"${name}" must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new HttpError(400, `"${name}" = ${value} is out of range [${min}, ${max}]`);
  return value;
}

/** A finite number query parameter in [min, max]; `fallback` when absent. */
export function numberParam(query: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new HttpError(400, `"${name}" must be a finite number, got "${raw}"`);
  if (value < min || value > max) throw new HttpError(400, `"${name}" = ${value} is out of range [${min}, ${max}]`);
  return value;
}
