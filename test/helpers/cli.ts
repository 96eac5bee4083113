/**
 * Runs the cryosam CLI in a child process, from sources (node --import tsx src/cli/main.ts) when
 * the tests run from sources, or the compiled dist/src/cli/main.js when they run from dist/.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  /** Extra environment variables (merged over this process's). */
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the CLI after this many ms (default 120000). */
  timeoutMs?: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.split(path.sep).includes('dist');
/** The project root: test/helpers → ../.., dist/test/helpers → ../../.. */
const root = path.resolve(here, compiled ? '../../..' : '../..');

export function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const entry = compiled
    ? [path.join(root, 'dist', 'src', 'cli', 'main.js')]
    : ['--import', import.meta.resolve('tsx'), path.join(root, 'src', 'cli', 'main.ts')];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: opts.cwd ?? root,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}
