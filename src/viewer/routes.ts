/**
 * The viewer's HTTP routes. Every request is checked before it touches data: token, method, query
 * ranges and JSON bodies (zod schemas); nothing in a request names a path on disk.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { z } from 'zod';
import type { Axis } from '../volume/volume.js';
import { isTopK, TOP_K_RULE } from '../pipeline/types.js';
import { HttpError, intParam, numberParam, readJsonBody, sendBinary, sendJson } from './http.js';
import { requireToken } from './token.js';
import { checkHostAndOrigin, type HostGuard } from './origin.js';
import type { ViewerSession } from './session.js';
import type { StaticAssets } from './assets.js';

const point = z.object({ x: z.number(), y: z.number(), z: z.number() });
const pickDto = point.extend({ score: z.number().optional(), voxels: z.number().nonnegative().optional() });
/** Limits keep a single request from asking for unbounded work. */
const MAX_PROMPTS = 1000;
const MAX_PICKS = 100_000;

/** Instance ids of Find-all picks (PickDto.instance). */
const instanceIds = z.array(z.number().int()).max(MAX_PICKS);
/** Exports never replace an existing file unless the request says so (the page asks the user first). */
const overwrite = z.boolean().default(false);

/** What a click is segmented or searched as (protocol.ts StructureChoice); 'auto' when absent. */
const structure = z.enum(['auto', 'particle', 'filament', 'membrane']).default('auto');

const schemas = {
  segment: z.object({ prompt: point, negatives: z.array(point).max(MAX_PROMPTS).default([]), structure }),
  pick: z.object({
    prompts: z.array(point).min(1).max(MAX_PROMPTS),
    negatives: z.array(point).max(MAX_PROMPTS).default([]),
    structure,
    // The pipeline's own rule (one rule for CLI, library and viewer), then the viewer's work limit.
    topK: z
      .custom<number | 'auto'>(isTopK, { message: `must be ${TOP_K_RULE}` })
      .refine((k) => k === 'auto' || k <= MAX_PICKS, { message: `must be at most ${MAX_PICKS}` })
      .default('auto'),
  }),
  keep: z.object({ instances: instanceIds }),
  exportPicks: z.object({ name: z.string(), format: z.string(), picks: z.array(pickDto).max(MAX_PICKS), overwrite }),
  exportMask: z.object({ name: z.string(), instances: instanceIds.optional(), overwrite }),
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
  '/api/mask/keep',
  '/api/segment',
  '/api/pick',
  '/api/export/picks',
  '/api/export/mask',
  '/api/download',
]);

/** Largest downsampling factor and smoothing sigma (voxels) a slice request may ask for. */
const MAX_DOWNSAMPLE = 64;
const MAX_SIGMA = 10;
/**
 * Smallest non-zero smoothing sigma (voxels): below it a Gaussian changes nothing visible, and a
 * subnormal sigma (1e-320) squares to 0 and would turn the kernel, and so the slice, into NaN.
 */
export const MIN_SIGMA = 0.1;

/** Display smoothing: 0 (off) or a sigma in [MIN_SIGMA, MAX_SIGMA] voxels. */
function sigmaParam(query: URLSearchParams): number {
  const sigma = numberParam(query, 'sigma', 0, MAX_SIGMA, 0);
  if (sigma !== 0 && sigma < MIN_SIGMA) {
    throw new HttpError(400, `"sigma" = ${sigma} must be 0 (no smoothing) or between ${MIN_SIGMA} and ${MAX_SIGMA} voxels`);
  }
  return sigma;
}

export function createHandler(session: ViewerSession, token: string, assets: StaticAssets, guard: HostGuard) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Before anything else, static files included: a page on another host must get nothing (DNS rebinding).
    checkHostAndOrigin(req, guard);
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
        const sigma = sigmaParam(query);
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
      case 'POST /api/mask/keep':
        return sendJson(res, 200, session.keepInstances((await body(req, schemas.keep)).instances));
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
