import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { writeMrc } from '../../src/io/mrc/index.js';
import { readPicks } from '../../src/io/coords/index.js';
import { startViewer, type ViewerServer } from '../../src/viewer/server.js';
import type { ExportResponse, InfoResponse, JobStatus } from '../../src/viewer/protocol.js';
import { client, ensurePageBuilt, postJsonInit, tempDir } from './helpers.js';

const SHAPE = [20, 40, 60] as const;
/** Every voxel's value encodes its position, so a slice's bytes can be checked exactly. */
const valueAt = (x: number, y: number, z: number) => z * 10000 + y * 100 + x;
/** The --mask file: a box of ones at z 4..7, y 10..19, x 30..44. */
const MASK_BOX = { z0: 4, z1: 8, y0: 10, y1: 20, x0: 30, x1: 45 };

describe('viewer server', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: ViewerServer;
  let api: ReturnType<typeof client>;
  let outDir: string;

  before(async () => {
    ensurePageBuilt();
    tmp = await tempDir('cryosam-viewer-');
    const [nz, ny, nx] = SHAPE;
    const data = new Float32Array(nz * ny * nx);
    const mask = new Uint8Array(nz * ny * nx);
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          const i = (z * ny + y) * nx + x;
          data[i] = valueAt(x, y, z);
          const b = MASK_BOX;
          mask[i] = z >= b.z0 && z < b.z1 && y >= b.y0 && y < b.y1 && x >= b.x0 && x < b.x1 ? 1 : 0;
        }
    const voxelSize = { x: 10, y: 10, z: 10 };
    await writeMrc(path.join(tmp.dir, 'tomo.mrc'), { data, shape: SHAPE, voxelSize });
    await writeMrc(path.join(tmp.dir, 'mask.mrc'), { data: mask, shape: SHAPE, voxelSize });
    outDir = path.join(tmp.dir, 'out');
    server = await startViewer({
      tomogram: path.join(tmp.dir, 'tomo.mrc'),
      mask: path.join(tmp.dir, 'mask.mrc'),
      outDir,
      cacheDir: path.join(tmp.dir, 'cache'),
    });
    api = client(server.url, server.token);
  });

  after(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  it('listens on 127.0.0.1 with a random token in the address', () => {
    const url = new URL(server.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.ok(server.port > 0);
    assert.equal(url.searchParams.get('token'), server.token);
    assert.ok(server.token.length >= 32);
  });

  it('answers 401 without a token and 403 with a wrong one', async () => {
    const missing = await api('/api/info', { token: null });
    assert.equal(missing.status, 401);
    assert.match(((await missing.json()) as { error: string }).error, /token/);
    const wrong = await api('/api/info', { token: 'x'.repeat(server.token.length) });
    assert.equal(wrong.status, 403);
    assert.equal((await api('/', { token: null })).status, 401);
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/static\/js\/main.js">/);
  });

  it('serves the page assets and nothing else from disk', async () => {
    assert.equal((await api('/static/js/main.js', { token: null })).status, 200);
    assert.equal((await api('/static/style.css', { token: null })).status, 200);
    assert.equal((await api('/static/js/../../../package.json')).status, 404);
    assert.equal((await api('/static/js/%2e%2e/%2e%2e/package.json')).status, 404);
  });

  it('describes the tomogram', async () => {
    const info = (await (await api('/api/info')).json()) as InfoResponse;
    assert.deepEqual(info.shape, [...SHAPE]);
    assert.equal(info.voxelSizeA, 10);
    assert.equal(info.name, 'tomo.mrc');
    assert.equal(info.hasMask, true);
    assert.ok(info.formats.includes('relion4'));
    assert.ok(info.autoContrast.low < info.autoContrast.high);
    assert.ok(info.autoContrast.min >= 0 && info.autoContrast.max <= valueAt(59, 39, 19));
  });

  it('returns slices along each axis with the right voxels', async () => {
    const slice = async (query: string) => {
      const res = await api(`/api/slice?${query}`);
      assert.equal(res.status, 200, await res.clone().text());
      const data = new Float32Array(await res.arrayBuffer());
      const width = Number(res.headers.get('x-width'));
      const height = Number(res.headers.get('x-height'));
      assert.equal(data.length, width * height);
      return { data, width, height };
    };
    const z = await slice('axis=z&index=5');
    assert.deepEqual([z.height, z.width], [40, 60]);
    assert.equal(z.data[3 * 60 + 7], valueAt(7, 3, 5));
    const y = await slice('axis=y&index=12');
    assert.deepEqual([y.height, y.width], [20, 60]);
    assert.equal(y.data[4 * 60 + 9], valueAt(9, 12, 4));
    const x = await slice('axis=x&index=7');
    assert.deepEqual([x.height, x.width], [20, 40]);
    assert.equal(x.data[4 * 40 + 9], valueAt(7, 9, 4));
    // Neighbouring YZ slices come from the band gathered with x = 7, and the edge of the volume from a new band.
    for (const index of [8, 15, 59]) {
      const next = await slice(`axis=x&index=${index}`);
      assert.equal(next.data[19 * 40 + 39], valueAt(index, 39, 19), `x = ${index}`);
    }
  });

  it('downsamples slices by block means, keeping partial edge blocks', async () => {
    const res = await api('/api/slice?axis=z&index=5&ds=2');
    const data = new Float32Array(await res.arrayBuffer());
    assert.equal(res.headers.get('x-width'), '30');
    assert.equal(res.headers.get('x-height'), '20');
    // Block (row 1, col 2) averages y 2..3, x 4..5.
    assert.equal(data[1 * 30 + 2], valueAt(4.5, 2.5, 5));
    const odd = await api('/api/slice?axis=z&index=5&ds=7');
    const oddData = new Float32Array(await odd.arrayBuffer());
    assert.equal(odd.headers.get('x-width'), '9');
    // The last column block holds x 56..59 only.
    assert.ok(Math.abs(oddData[8] - valueAt(57.5, 3, 5)) < 1e-2);
  });

  it('smooths for display without changing the mean of a linear ramp', async () => {
    const res = await api('/api/slice?axis=z&index=5&sigma=1.5');
    const data = new Float32Array(await res.arrayBuffer());
    // Away from the borders a Gaussian leaves a linear function unchanged.
    assert.ok(Math.abs(data[20 * 60 + 30] - valueAt(30, 20, 5)) < 1e-2);
  });

  it('rejects bad slice requests with 400 and a message', async () => {
    for (const [query, pattern] of [
      ['axis=w&index=1', /axis/],
      ['index=1', /axis/],
      ['axis=z&index=20', /out of range/],
      ['axis=x&index=-1', /out of range/],
      ['axis=z&index=abc', /integer/],
      ['axis=z&index=1.5', /integer/],
      ['axis=z', /missing/],
      ['axis=z&index=1&sigma=NaN', /finite/],
      ['axis=z&index=1&ds=0', /out of range/],
    ] as const) {
      const res = await api(`/api/slice?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(((await res.json()) as { error: string }).error, pattern, query);
    }
  });

  it('overlays the --mask file', async () => {
    const res = await api('/api/overlay?axis=z&index=5');
    assert.equal(res.status, 200);
    const bits = new Uint8Array(await res.arrayBuffer());
    assert.equal(bits.length, 40 * 60);
    assert.equal(bits[15 * 60 + 35], 1);
    assert.equal(bits[5 * 60 + 35], 0);
    const outside = new Uint8Array(await (await api('/api/overlay?axis=z&index=2')).arrayBuffer());
    assert.ok(outside.every((b) => b === 0));
    const yz = new Uint8Array(await (await api('/api/overlay?axis=x&index=40&ds=2')).arrayBuffer());
    // YZ slice downsampled by 2: rows z/2, cols y/2 → z 4..7 ⇒ rows 2..3, y 10..19 ⇒ cols 5..9.
    assert.equal(yz.length, 10 * 20);
    assert.equal(yz[2 * 20 + 5], 1);
    assert.equal(yz[1 * 20 + 5], 0);
  });

  it('rejects malformed, invalid and oversized bodies', async () => {
    const bad = await api('/api/export/picks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /JSON/);
    const empty = await api('/api/pick', { method: 'POST', body: '' });
    assert.equal(empty.status, 400);
    const wrongType = await api('/api/pick', postJsonInit({ prompts: [{ x: 'a', y: 1, z: 1 }] }));
    assert.equal(wrongType.status, 400);
    assert.match(((await wrongType.json()) as { error: string }).error, /prompts/);
    const outside = await api('/api/segment', postJsonInit({ prompt: { x: 1, y: 1, z: 99 } }));
    assert.equal(outside.status, 400);
    assert.match(((await outside.json()) as { error: string }).error, /outside/);
    const big = await rawPost(server.port, '/api/export/picks', server.token, 'x'.repeat(2 * 1024 * 1024));
    assert.equal(big.status, 413);
    assert.match(big.body, /larger than/);
  });

  it('answers 404 for unknown routes, jobs and downloads, 405 for wrong methods', async () => {
    assert.equal((await api('/api/nothing')).status, 404);
    assert.equal((await api('/api/jobs/12345')).status, 404);
    assert.equal((await api('/api/download?name=tomo.mrc')).status, 404);
    assert.equal((await api('/api/info', { method: 'POST', body: '{}' })).status, 405);
    assert.equal((await api('/api/pick')).status, 405);
  });

  it('never writes outside the output folder', async () => {
    for (const name of ['../evil.star', '..', 'sub/evil.star', '/tmp/evil.star', '.hidden', 'a\\b.star', '']) {
      const res = await api('/api/export/picks', postJsonInit({ name, format: 'relion4', picks: [{ x: 1, y: 2, z: 3 }] }));
      assert.equal(res.status, 400, name);
      assert.match(((await res.json()) as { error: string }).error, /file name/, name);
    }
    const mask = await api('/api/export/mask', postJsonInit({ name: '../evil.mrc' }));
    assert.equal(mask.status, 400);
    const allowed = new Set(['cache', 'mask.mrc', 'out', 'tomo.mrc']);
    assert.deepEqual(readdirSync(tmp.dir).filter((f) => !allowed.has(f)), []);
    assert.ok(!existsSync(path.join(tmp.dir, 'evil.star')));
    assert.ok(!existsSync('/tmp/evil.star'));
  });

  it('exports picks that read back, and serves them for download', async () => {
    const picks = [
      { x: 10, y: 20, z: 5, score: 0.9 },
      { x: 50.5, y: 3, z: 17, score: 0.7 },
    ];
    const res = await api('/api/export/picks', postJsonInit({ name: 'picks.star', format: 'relion4', picks }));
    assert.equal(res.status, 200);
    const out = (await res.json()) as ExportResponse;
    assert.equal(out.path, path.join(outDir, 'picks.star'));
    assert.equal(out.count, 2);
    const back = await readPicks(out.path, { voxelSize: 10, shape: SHAPE });
    assert.deepEqual(
      back.map((p) => [p.x, p.y, p.z]),
      picks.map((p) => [p.x, p.y, p.z]),
    );
    const download = await api(out.download);
    assert.equal(download.status, 200);
    assert.equal(await download.text(), await readFile(out.path, 'utf8'));
    assert.equal((await api(out.download, { token: null })).status, 401);
    const unknown = await api('/api/export/picks', postJsonInit({ name: 'p.txt', format: 'nonsense', picks }));
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { error: string }).error, /format/);
    const beyond = await api('/api/export/picks', postJsonInit({ name: 'p.csv', format: 'csv', picks: [{ x: 500, y: 1, z: 1 }] }));
    assert.equal(beyond.status, 400);
  });

  it('exports the mask as MRC', async () => {
    const res = await api('/api/export/mask', postJsonInit({ name: 'mask_out.mrc' }));
    assert.equal(res.status, 200);
    const out = (await res.json()) as ExportResponse;
    const { readMrc } = await import('../../src/io/mrc/index.js');
    const mask = await readMrc(out.path);
    assert.deepEqual([...mask.shape], [...SHAPE]);
    const count = mask.data.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    assert.equal(count, 4 * 10 * 15);
  });

  it('runs Segment as a job and overlays the particle', async () => {
    const started = await api('/api/segment', postJsonInit({ prompt: { x: 37, y: 15, z: 5 } }));
    assert.equal(started.status, 202);
    let job = (await started.json()) as JobStatus;
    const busy = await api('/api/segment', postJsonInit({ prompt: { x: 37, y: 15, z: 5 } }));
    assert.equal(busy.status, 409);
    while (job.state === 'running') {
      await new Promise((r) => setTimeout(r, 100));
      job = (await (await api(`/api/jobs/${job.id}`)).json()) as JobStatus;
    }
    assert.equal(job.state, 'done', job.error);
    assert.equal(job.result?.kind, 'segment');
    const bits = new Uint8Array(await (await api('/api/overlay?axis=z&index=5')).arrayBuffer());
    assert.ok(bits.some((b) => (b & 2) !== 0), 'segmented particle is on the overlay');
  });
});

/** A POST with a raw body through node:http, which (unlike fetch) reports the answer to an oversized upload. */
function rawPost(port: number, pathname: string, token: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: pathname, method: 'POST', headers: { 'x-cryosam-token': token, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
