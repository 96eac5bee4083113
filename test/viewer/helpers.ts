/**
 * Shared set-up of the viewer tests: the compiled page, a temp folder, and a viewer server with
 * a small request helper that sends the token.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { assetDirs } from '../../src/viewer/assets.js';

/** Compiles the page's browser modules when they are missing or older than their sources (tsx runs). */
export function ensurePageBuilt(): void {
  const root = packageRoot();
  const { web, js } = assetDirs(root);
  const built = path.join(js, 'main.js');
  const newest = Math.max(...readdirSync(web).filter((f) => f.endsWith('.ts')).map((f) => statSync(path.join(web, f)).mtimeMs));
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return;
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(web, 'tsconfig.json')], { stdio: 'inherit' });
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** fetch against a viewer, with its token in the header unless `token` is overridden. */
export function client(base: string, token: string) {
  return (pathname: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token: override, ...rest } = init;
    const t = override === undefined ? token : override;
    const headers: Record<string, string> = { ...((rest.headers as Record<string, string>) ?? {}) };
    if (t !== null) headers['x-cryosam-token'] = t;
    return fetch(new URL(pathname, base), { ...rest, headers });
  };
}

export function postJsonInit(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
