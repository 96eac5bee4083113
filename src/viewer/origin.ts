/**
 * DNS-rebinding defence, as Jupyter's: a web page on evil.example whose name is made to resolve to
 * 127.0.0.1 talks to this server as a "same-origin" page, with `Host: evil.example:<port>`. So every
 * request (static files too) must name this server's own address in Host, and state-changing
 * requests sent by a browser (which then carry Origin) must come from a page of this server.
 * The token stays the main lock; this keeps a leaked or guessed token from being usable by
 * arbitrary web pages.
 */
import os from 'node:os';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http.js';

export interface HostGuard {
  /** Accepted Host header values, lower case ("127.0.0.1:8000"). */
  hosts: Set<string>;
  /** Accepted Origin header values on state-changing requests ("http://127.0.0.1:8000"). */
  origins: Set<string>;
}

/** Methods that change nothing on the server; only the others need a same-origin Origin. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const isWildcard = (host: string) => host === '' || host === '0.0.0.0' || host === '::';
const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * The names a browser may use for a server listening on `listenHost`: the listen address itself
 * and "localhost" for loopback; for a wildcard address also every interface address and the
 * machine's host name ([::1] only where the server listens on IPv6).
 */
export function hostNames(listenHost: string): string[] {
  const names = [listenHost];
  if (isLoopback(listenHost)) names.push('localhost');
  if (listenHost === 'localhost') names.push('127.0.0.1', '::1');
  if (isWildcard(listenHost)) {
    const v6 = listenHost === '::';
    names.push('localhost', os.hostname());
    for (const addrs of Object.values(os.networkInterfaces())) {
      for (const a of addrs ?? []) if (a.family === 'IPv4' || (v6 && !a.address.includes('%'))) names.push(a.address);
    }
  }
  return [...new Set(names.filter((n) => n !== ''))];
}

export function hostGuard(listenHost: string, port: number): HostGuard {
  const hosts = new Set<string>();
  for (const name of hostNames(listenHost)) {
    const shown = (name.includes(':') ? `[${name}]` : name).toLowerCase();
    hosts.add(`${shown}:${port}`);
    // Browsers leave the default port out of Host and Origin.
    if (port === 80) hosts.add(shown);
  }
  return { hosts, origins: new Set([...hosts].map((h) => `http://${h}`)) };
}

/** Throws 403 unless the request's Host (and, for state-changing methods, Origin) is this server's. */
export function checkHostAndOrigin(req: IncomingMessage, guard: HostGuard): void {
  const host = req.headers.host;
  const first = [...guard.hosts][0];
  if (host === undefined || !guard.hosts.has(host.toLowerCase())) {
    throw new HttpError(
      403,
      `refused: the request names host "${host ?? ''}", not this viewer's address (${first}); open the address cryosam view printed`,
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !SAFE_METHODS.has(req.method ?? 'GET') && !guard.origins.has(origin.toLowerCase())) {
    throw new HttpError(403, `refused: ${req.method} from another site's page (Origin "${origin}"); use the viewer page at http://${first}/`);
  }
}
