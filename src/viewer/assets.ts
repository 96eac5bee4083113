/**
 * The page's static files: index.html and style.css from src/viewer/web/, and the compiled browser
 * modules from dist/viewer-web/web/. All are read once at start into memory, so no request path
 * ever reaches the filesystem.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { CryosamError } from '../errors.js';
import { packageRoot } from '../paths.js';

export interface Asset {
  content: Buffer;
  type: string;
}

export interface StaticAssets {
  page: Asset;
  lookup(urlPath: string): Asset | undefined;
  send(res: ServerResponse, asset: Asset): void;
}

/** Folders of the page's sources and of its compiled modules. */
export function assetDirs(root = packageRoot()): { web: string; js: string } {
  return { web: path.join(root, 'src', 'viewer', 'web'), js: path.join(root, 'dist', 'viewer-web', 'web') };
}

export function loadAssets(root = packageRoot()): StaticAssets {
  const dirs = assetDirs(root);
  const main = path.join(dirs.js, 'main.js');
  if (!existsSync(main)) throw new CryosamError('the viewer page is not built; run `npm run build`', main);
  const byPath = new Map<string, Asset>();
  const page: Asset = { content: readFileSync(path.join(dirs.web, 'index.html')), type: 'text/html; charset=utf-8' };
  byPath.set('/static/style.css', { content: readFileSync(path.join(dirs.web, 'style.css')), type: 'text/css; charset=utf-8' });
  for (const file of readdirSync(dirs.js)) {
    if (file.endsWith('.js')) byPath.set(`/static/js/${file}`, { content: readFileSync(path.join(dirs.js, file)), type: 'text/javascript; charset=utf-8' });
  }
  return {
    page,
    lookup: (urlPath) => byPath.get(urlPath),
    send(res, asset) {
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': asset.content.length,
        'cache-control': 'no-cache',
        // The page only talks to its own server and runs only its own scripts.
        'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; object-src 'none'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
      });
      res.end(asset.content);
    },
  };
}
