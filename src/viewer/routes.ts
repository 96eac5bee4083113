/**
 * The viewer's HTTP routes. Every request is checked before it touches data: token, method, query
 * ranges and JSON bodies (zod schemas); nothing in a request names a path on disk.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { z } from 'zod';
import type { Axis } from '../volume/volume.js';
import { HttpError, intParam, numberParam, readJsonBody, sendBinary, sendJson } from './http.js';
import { requireToken } from './token.js';
import type { ViewerSession } from './session.js';
import type { StaticAssets } from './assets.js';

const point = z.object({ x: z.number(), y: z.number(), z: z.number() });
const pickDto = point.extend({ score: z.number().optional(), voxels: z.number().nonnegative().optional() });
/** Limits keep a single request from asking for unbounded work. */
const MAX_PROMPTS = 1000;
const MAX_PICKS = 100_000;

const schemas = {
  segment: z.object({ prompt: point, negatives: z.array(point).max(MAX_PROMPTS).default([]) }),
  pick: z.object({
    prompts: z.array(point).min(1).max(MAX_PROMPTS),
    negatives: z.array(point).max(MAX_PROMPTS).default([]),
    topK: z.union([z.literal('auto'), z.number().int().min(1).max(MAX_PICKS)]).default('auto'),
  }),
  exportPicks: z.object({ name: z.string(), format: z.string(), picks: z.array(pickDto).max(MAX_PICKS) }),
  exportMask: z.object({ name: z.string() }),
};

async function body<S extends z.ZodType>(req: IncomingMessage, schema: S): Promise<z.infer<S>> {
  const parsed = schema.safeParse(await readJsonBody(req));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(400, `bad request body: ${issue.path.length ? issue.path.join('.') + ': ' : ''}${issue.message}`);
  }
  return parsed.data;
}

function axisParam(query: URLSearchParams): Axis {
  const axis = query.get('axis');
  if (axis !== 'z' && axis !== 'y' && axis !== 'x') throw new HttpError(400, `"axis" must be z, y or x, got "${axis ?? ''}"`);
  return axis;
}

const KNOWN_PATHS = new Set([
  '/',
  '/api/info',
  '/api/slice',
  '/api/overlay',
  '/api/segment',
  '/api/pick',
  '/api/export/picks',
  '/api/export/mask',
  '/api/download',
]);

/** Largest downsampling factor and smoothing sigma (voxels) a slice request may ask for. */
const MAX_DOWNSAMPLE = 64;
const MAX_SIGMA = 10;

export function createHandler(session: ViewerSession, token: string, assets: StaticAssets) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = url.searchParams;
    const route = `${req.method ?? 'GET'} ${url.pathname}`;

    // The app's own code and style carry no data, so they load without the token.
    const asset = req.method === 'GET' ? assets.lookup(url.pathname) : undefined;
    if (asset) return assets.send(res, asset);

    requireToken(req, query, token);
    switch (route) {
      case 'GET /':
        return assets.send(res, assets.page);
      case 'GET /api/info':
        return sendJson(res, 200, session.info());
      case 'GET /api/slice': {
        const axis = axisParam(query);
        const index = intParam(query, 'index', 0, Number.MAX_SAFE_INTEGER);
        const ds = intParam(query, 'ds', 1, MAX_DOWNSAMPLE, 1);
        const sigma = numberParam(query, 'sigma', 0, MAX_SIGMA, 0);
        const slice = await session.slice(axis, index, ds, sigma);
        const bytes = new Uint8Array(slice.data.buffer, slice.data.byteOffset, slice.data.byteLength);
        return sendBinary(res, bytes, { 'x-width': slice.width, 'x-height': slice.height, 'x-downsample': ds });
      }
      case 'GET /api/overlay': {
        const axis = axisParam(query);
        const index = intParam(query, 'index', 0, Number.MAX_SAFE_INTEGER);
        const ds = intParam(query, 'ds', 1, MAX_DOWNSAMPLE, 1);
        const o = session.overlay(axis, index, ds);
        return sendBinary(res, o.bits, { 'x-width': o.width, 'x-height': o.height, 'x-downsample': ds });
      }
      case 'POST /api/segment':
        return sendJson(res, 202, session.startSegment(await body(req, schemas.segment)));
      case 'POST /api/pick':
        return sendJson(res, 202, session.startPick(await body(req, schemas.pick)));
      case 'POST /api/export/picks':
        return sendJson(res, 200, await session.exportPicks(await body(req, schemas.exportPicks)));
      case 'POST /api/export/mask':
        return sendJson(res, 200, await session.exportMask(await body(req, schemas.exportMask)));
      case 'GET /api/download': {
        const name = query.get('name') ?? '';
        const file = session.exportedPath(name);
        const { size } = await fs.stat(file);
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': size,
          'content-disposition': `attachment; filename="${path.basename(file)}"`,
        });
        createReadStream(file).pipe(res);
        return;
      }
    }
    const job = /^GET \/api\/jobs\/([0-9]+)$/.exec(route);
    if (job) return sendJson(res, 200, session.jobs.get(job[1]));
    if (KNOWN_PATHS.has(url.pathname) || /^\/api\/jobs\/[0-9]+$/.test(url.pathname)) {
      throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
    }
    throw new HttpError(404, `no such page: ${url.pathname}`);
  };
}
