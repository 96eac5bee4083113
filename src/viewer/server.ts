/**
 * Starts the viewer's local HTTP server: 127.0.0.1 and an OS-assigned port by default, a random
 * token in the address, and clear JSON errors for bad requests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CryosamError } from '../errors.js';
import { errorStatus, HttpError, sendJson } from './http.js';
import { createHandler } from './routes.js';
import { ViewerSession, type ViewerOptions } from './session.js';
import { createToken } from './token.js';
import { loadAssets } from './assets.js';
import { hostGuard } from './origin.js';

export interface ViewerServerOptions extends ViewerOptions {
  /** Interface to listen on (default 127.0.0.1: only this machine can connect). */
  host?: string;
  /** TCP port; 0 (default) lets the OS pick a free one. */
  port?: number;
}

export interface ViewerServer {
  /** Address to open, with the token. */
  url: string;
  port: number;
  token: string;
  session: ViewerSession;
  close(): Promise<void>;
}

export async function startViewer(options: ViewerServerOptions): Promise<ViewerServer> {
  const assets = loadAssets();
  const session = await ViewerSession.open(options);
  const token = createToken();
  const server = http.createServer();
  // Slow clients must not hold sockets forever.
  server.requestTimeout = 60_000;
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
  } catch (err) {
    await session.close();
    throw new CryosamError(`cannot listen on ${host}:${options.port ?? 0}: ${(err as Error).message}`);
  }
  const port = (server.address() as AddressInfo).port;
  // Attached once the port is known (the Host check needs it). This runs in a microtask right after
  // 'listening', before the event loop reads any connection, so no request goes unhandled.
  const handle = createHandler(session, token, assets, hostGuard(host, port));
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Close after errors: the request body may be unread (e.g. too large), and must not be parsed as a next request.
      res.setHeader('connection', 'close');
      const details = err instanceof HttpError ? err.details : {};
      sendJson(res, errorStatus(err), { ...details, error: err instanceof Error ? err.message : String(err) });
    });
  });
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    session,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await session.close();
    },
  };
}
