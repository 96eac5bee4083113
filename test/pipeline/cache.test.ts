import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cacheKey, DiskCache, identityKey, tomogramHash } from '../../src/pipeline/cache.js';

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-cache-'));
}

test('entries round-trip; info counts them; clear removes only cache entries', async () => {
  const dir = await tempDir();
  try {
    const cache = new DiskCache(dir, 1 << 20);
    const key = cacheKey('tomo', 'engine', 'z', '3');
    assert.equal(await cache.get(key), undefined);
    await cache.put(key, Uint8Array.of(1, 2, 3));
    assert.deepEqual(Array.from((await cache.get(key)) ?? []), [1, 2, 3]);
    await fs.writeFile(path.join(dir, 'README'), 'not a cache entry');
    assert.deepEqual(await cache.info(), { dir, files: 1, bytes: 3, limitBytes: 1 << 20 });
    assert.equal(await cache.clear(), 1);
    assert.equal(await cache.get(key), undefined);
    assert.equal(await fs.readFile(path.join(dir, 'README'), 'utf8'), 'not a cache entry');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the size limit evicts the least recently used entries (reads count as use)', async () => {
  const dir = await tempDir();
  try {
    const cache = new DiskCache(dir, 2500);
    const [a, b, c] = ['a', 'b', 'c'].map((s) => cacheKey(s));
    await cache.put(a, new Uint8Array(1000));
    await cache.put(b, new Uint8Array(1000));
    // Make b older than a on disk, then read a: a must survive and b go.
    const old = new Date(Date.now() - 60_000);
    const fileOf = async (k: string) => path.join(dir, k.slice(0, 2), `${k}.bin`);
    await fs.utimes(await fileOf(a), old, old);
    await fs.utimes(await fileOf(b), new Date(old.getTime() + 1000), new Date(old.getTime() + 1000));
    assert.ok(await cache.get(a));
    await cache.put(c, new Uint8Array(1000));
    assert.ok(await cache.get(a), 'recently read entry kept');
    assert.equal(await cache.get(b), undefined, 'least recently used entry evicted');
    assert.ok(await cache.get(c));
    assert.ok((await cache.info()).bytes <= 2500);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('keys depend on content and identity, not on key order of parameters', () => {
  const a = new Float32Array([1, 2, 3]);
  const b = new Float32Array([1, 2, 3.0001]);
  assert.notEqual(tomogramHash(a), tomogramHash(b));
  assert.equal(tomogramHash(a), tomogramHash(new Float32Array([1, 2, 3])));
  assert.equal(identityKey({ name: 'e', params: { s: 1, t: 2 } }), identityKey({ name: 'e', params: { t: 2, s: 1 } }));
  assert.notEqual(identityKey({ name: 'e', params: { s: 1 } }), identityKey({ name: 'e', params: { s: 2 } }));
  assert.notEqual(identityKey({ name: 'e', params: {} }), identityKey({ name: 'e', weightsSha256: 'ab', params: {} }));
  assert.notEqual(cacheKey('a', 'bc'), cacheKey('ab', 'c'));
});
