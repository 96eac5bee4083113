import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cacheKey, DiskCache, ENVELOPE_BYTES, identityKey, tomogramHash } from '../../src/pipeline/cache.js';

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-cache-'));
}

/** A cache whose warnings are collected instead of printed. */
function quietCache(dir: string, limit = 1 << 20): { cache: DiskCache; warnings: string[] } {
  const warnings: string[] = [];
  return { cache: new DiskCache(dir, limit, { onWarning: (m) => warnings.push(m) }), warnings };
}

function entryFile(dir: string, key: string): string {
  return path.join(dir, key.slice(0, 2), `${key}.bin`);
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}

test('entries round-trip; info counts them; clear removes only cache entries', async () => {
  const dir = await tempDir();
  try {
    const { cache, warnings } = quietCache(dir);
    const key = cacheKey('tomo', 'engine', 'z', '3');
    assert.equal(await cache.get(key), undefined);
    await cache.put(key, Uint8Array.of(1, 2, 3));
    assert.deepEqual(Array.from((await cache.get(key)) ?? []), [1, 2, 3]);
    await fs.writeFile(path.join(dir, 'README'), 'not a cache entry');
    assert.deepEqual(await cache.info(), { dir, files: 1, bytes: ENVELOPE_BYTES + 3, limitBytes: 1 << 20, skipped: 1 });
    assert.deepEqual(await cache.clear(), { removed: 1, skipped: 1, failed: 0 });
    assert.equal(await cache.get(key), undefined);
    assert.equal(await fs.readFile(path.join(dir, 'README'), 'utf8'), 'not a cache entry');
    assert.deepEqual(warnings, []);
    assert.deepEqual(cache.stats, { corrupt: 0, writeFailures: 0, readFailures: 0 });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the size limit evicts the least recently used entries (reads count as use)', async () => {
  const dir = await tempDir();
  try {
    const { cache } = quietCache(dir, 2500);
    const [a, b, c] = ['a', 'b', 'c'].map((s) => cacheKey(s));
    await cache.put(a, new Uint8Array(1000));
    await cache.put(b, new Uint8Array(1000));
    // Make b older than a on disk, then read a: a must survive and b go.
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(entryFile(dir, a), old, old);
    await fs.utimes(entryFile(dir, b), new Date(old.getTime() + 1000), new Date(old.getTime() + 1000));
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

test('foreign files survive eviction and clear(), byte for byte, and are counted as skipped', async () => {
  const dir = await tempDir();
  try {
    const lookalike = 'ab' + 'c'.repeat(62);
    const foreign = [
      path.join(dir, 'rawdata', 'movie_stack.bin'),
      // The exact name pattern of an entry, without the cache's header.
      entryFile(dir, lookalike),
      // A hex name in the wrong subfolder, with the cache's magic: not where the cache writes.
      path.join(dir, 'cd', `${lookalike}.bin`),
      path.join(dir, 'top-level.bin'),
    ];
    for (const [i, f] of foreign.entries()) {
      await fs.mkdir(path.dirname(f), { recursive: true });
      const body = i === 2 ? Buffer.concat([Buffer.from('CRYOSAMC'), Buffer.alloc(5000)]) : Buffer.alloc(5000 + i, i + 1);
      await fs.writeFile(f, body);
      // Older than any entry: an eviction by mtime would take them first.
      await fs.utimes(f, new Date(0), new Date(0));
    }
    const hashes = await Promise.all(foreign.map(sha256));
    const { cache } = quietCache(dir, 2500);
    const keys = ['a', 'b', 'c', 'd'].map((s) => cacheKey(s));
    for (const k of keys) await cache.put(k, new Uint8Array(1000));
    assert.deepEqual(await Promise.all(foreign.map(sha256)), hashes, 'eviction left foreign files alone');
    const info = await cache.info();
    assert.equal(info.files, 2, 'eviction kept two entries within the limit (foreign bytes do not count)');
    assert.equal(info.skipped, foreign.length);
    assert.deepEqual(await cache.clear(), { removed: 2, skipped: foreign.length, failed: 0 });
    assert.deepEqual(await Promise.all(foreign.map(sha256)), hashes, 'clear left foreign files alone');
    assert.equal(await cache.get(lookalike), undefined, 'a lookalike without the header is not an entry');
    assert.ok(await exists(entryFile(dir, lookalike)), 'and get() does not delete it');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

/** Writes an entry, lets `damage` change its file, then reads it back through a fresh cache. */
async function readDamaged(damage: (file: Buffer) => Buffer): Promise<{ got: Uint8Array | undefined; warnings: string[]; cache: DiskCache; file: string }> {
  const dir = await tempDir();
  try {
    const key = cacheKey('entry');
    await quietCache(dir).cache.put(key, Uint8Array.from({ length: 64 }, (_, i) => i));
    const file = entryFile(dir, key);
    await fs.writeFile(file, damage(await fs.readFile(file)));
    const { cache, warnings } = quietCache(dir);
    const got = await cache.get(key);
    return { got, warnings, cache, file: (await exists(file)) ? file : '' };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Changes `b` in place and returns it, or returns a shorter view. */
const damages: [string, (b: Buffer) => Buffer][] = [
  ['a flipped body byte', (b) => { b[ENVELOPE_BYTES + 10] ^= 0x40; return b; }],
  ['a truncated body', (b) => b.subarray(0, b.length - 1)],
  ['a body length field changed', (b) => { b.writeBigUInt64LE(63n, 48); return b; }],
  ['the key field changed', (b) => { b[20] ^= 1; return b; }],
  ['an unknown format version', (b) => { b.writeUInt32LE(99, 8); return b; }],
  ['a checksum byte changed', (b) => { b[70] ^= 1; return b; }],
];
for (const [name, damage] of damages) {
  test(`an entry with ${name} is a miss: removed, counted, warned about`, async () => {
    const { got, warnings, cache, file } = await readDamaged(damage);
    assert.equal(got, undefined);
    assert.equal(file, '', 'entry removed');
    assert.equal(cache.stats.corrupt, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /corrupt cache entry/);
  });
}

test('an entry copied under another key is rejected', async () => {
  const dir = await tempDir();
  try {
    const { cache, warnings } = quietCache(dir);
    const [a, b] = [cacheKey('a'), cacheKey('b')];
    await cache.put(a, Uint8Array.of(7, 7, 7));
    await fs.mkdir(path.dirname(entryFile(dir, b)), { recursive: true });
    await fs.copyFile(entryFile(dir, a), entryFile(dir, b));
    assert.equal(await cache.get(b), undefined);
    assert.equal(cache.stats.corrupt, 1);
    assert.match(warnings.join('\n'), /another key/);
    assert.deepEqual(Array.from((await cache.get(a)) ?? []), [7, 7, 7], 'the original is still good');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a cache folder that is a regular file: no exception, one warning, the cache turns off', async () => {
  const dir = await tempDir();
  try {
    const notAFolder = path.join(dir, 'cache');
    await fs.writeFile(notAFolder, 'a file');
    const { cache, warnings } = quietCache(notAFolder);
    const key = cacheKey('x');
    assert.equal(await cache.get(key), undefined);
    await cache.put(key, Uint8Array.of(1));
    await cache.put(cacheKey('y'), Uint8Array.of(2));
    assert.equal(await cache.get(key), undefined);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /going on without the cache/);
    assert.equal(cache.enabled, false);
    assert.equal((await cache.info()).files, 0);
    assert.equal(await fs.readFile(notAFolder, 'utf8'), 'a file');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a subfolder that is a regular file: put fails once with one warning, then reads and writes are no-ops', async () => {
  const dir = await tempDir();
  try {
    const key = cacheKey('x');
    await fs.writeFile(path.join(dir, key.slice(0, 2)), 'in the way');
    const { cache, warnings } = quietCache(dir);
    assert.equal(await cache.get(key), undefined);
    await cache.put(key, Uint8Array.of(1));
    await cache.put(cacheKey('another'), Uint8Array.of(2));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /cannot be written/);
    assert.equal(cache.stats.writeFailures, 1);
    assert.equal(await cache.get(cacheKey('another')), undefined, 'off for the rest of the run');
    assert.equal((await fs.readdir(dir)).length, 1, 'nothing written');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the default warning goes to stderr once per problem', async (t) => {
  const dir = await tempDir();
  const written: string[] = [];
  t.mock.method(process.stderr, 'write', (s: string) => (written.push(s), true));
  try {
    const notAFolder = path.join(dir, 'cache');
    await fs.writeFile(notAFolder, '');
    const cache = new DiskCache(notAFolder);
    await cache.put(cacheKey('x'), Uint8Array.of(1));
    await cache.get(cacheKey('x'));
    t.mock.restoreAll();
    assert.equal(written.length, 1);
    assert.match(written[0], /^cryosam: warning: cache folder .* going on without the cache\n$/);
  } finally {
    t.mock.restoreAll();
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
