/**
 * The viewer's access token: a random secret in the address the server prints, so other local users
 * and web pages cannot read the tomogram or write exports through the port.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http.js';

export const TOKEN_HEADER = 'x-cryosam-token';

export function createToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time comparison, so response timing does not leak how much of a guess was right. */
function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Throws 401 when the request carries no token, 403 when it carries a wrong one. The page sends it
 * in a header; links the browser follows itself (page load, downloads) carry it as ?token=.
 */
export function requireToken(req: IncomingMessage, query: URLSearchParams, expected: string): void {
  const header = req.headers[TOKEN_HEADER];
  const given = (Array.isArray(header) ? header[0] : header) ?? query.get('token') ?? undefined;
  if (given === undefined || given === '') throw new HttpError(401, 'missing access token: open the address cryosam view printed');
  if (!sameToken(given, expected)) throw new HttpError(403, 'wrong access token');
}
