/** sha256 of weight files, streamed (multi-GB exports) and remembered per file version for this process. */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';

const cache = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

export async function sha256File(file: string): Promise<string> {
  const abs = path.resolve(file);
  const st = await fs.stat(abs);
  const hit = cache.get(abs);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha256;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(abs, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  cache.set(abs, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
  return sha256;
}

/** One digest standing for several files (an encoder + decoder pair), order-sensitive. */
export function combineSha256(parts: readonly string[]): string {
  return parts.length === 1 ? parts[0] : createHash('sha256').update(parts.join('\n')).digest('hex');
}
