import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { link, lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { writeMrc } from '../../src/io/mrc/index.js';
import { readPicks, writePicks } from '../../src/io/coords/index.js';
import { CryosamError } from '../../src/errors.js';
import { TOP_K_RULE } from '../../src/pipeline/types.js';
import { sharedDir } from '../../src/paths.js';
import { startViewer, type ViewerServer } from '../../src/viewer/server.js';
import type { ExportResponse, InfoResponse, JobStatus, PickDto, PickJobResult, SegmentJobResult } from '../../src/viewer/protocol.js';
import { scatter, synthetic } from '../pipeline/synthetic.js';
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
    const big = await rawRequest(server.port, { method: 'POST', path: '/api/export/picks', token: server.token, body: 'x'.repeat(2 * 1024 * 1024) });
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
    assert.deepEqual([...new Set(back.map((p) => p.tomoName))], ['tomo'], 'named by tomogramName(tomo.mrc)');
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
    // A particle as asked: 'auto' (the default) reads this linear ramp as a sheet (a membrane).
    const started = await api('/api/segment', postJsonInit({ prompt: { x: 37, y: 15, z: 5 }, structure: 'particle' }));
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
    assert.equal((job.result as SegmentJobResult).structure, 'particle');
    const bits = new Uint8Array(await (await api('/api/overlay?axis=z&index=5')).arrayBuffer());
    assert.ok(bits.some((b) => (b & 2) !== 0), 'segmented particle is on the overlay');
  });

  it('refuses requests naming another host, even with the token, static files too (DNS rebinding)', async () => {
    const { port, token } = server;
    for (const path of ['/api/info', '/', `/?token=${token}`, '/static/js/main.js', '/static/style.css', '/api/download?name=picks.star']) {
      for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`]) {
        const res = await rawRequest(port, { path, token, host });
        assert.equal(res.status, 403, `${host} ${path}`);
        assert.match(JSON.parse(res.body).error, /host/, `${host} ${path}`);
      }
    }
    // No Host at all: Node's HTTP/1.1 parser refuses it (400) before the viewer's check (403) would.
    const missing = await rawRequest(port, { path: '/api/info', token, host: null });
    assert.ok([400, 403].includes(missing.status), String(missing.status));
    const post = await rawRequest(port, {
      method: 'POST',
      path: '/api/export/picks',
      token,
      host: `evil.example:${port}`,
      body: JSON.stringify({ name: 'rebound.csv', format: 'csv', picks: [{ x: 1, y: 2, z: 3 }] }),
    });
    assert.equal(post.status, 403);
    assert.ok(!existsSync(path.join(outDir, 'rebound.csv')));
    // This server's own names are served: the one it listens on, and localhost (any letter case).
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`]) {
      assert.equal((await rawRequest(port, { path: '/api/info', token, host })).status, 200, host);
    }
    // [::1] only where it listens on IPv6.
    assert.equal((await rawRequest(port, { path: '/api/info', token, host: `[::1]:${port}` })).status, 403);
  });

  it("refuses state-changing requests from another site's page (Origin)", async () => {
    const { port, token } = server;
    const exportBody = (name: string) => JSON.stringify({ name, format: 'csv', picks: [{ x: 1, y: 2, z: 3 }] });
    for (const origin of ['http://evil.example', `http://evil.example:${port}`, 'null', `https://127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`]) {
      const res = await rawRequest(port, { method: 'POST', path: '/api/export/picks', token, origin, body: exportBody('cross.csv') });
      assert.equal(res.status, 403, origin);
      assert.match(JSON.parse(res.body).error, /Origin/, origin);
    }
    assert.ok(!existsSync(path.join(outDir, 'cross.csv')));
    // The page itself (either name of this server), and clients that send no Origin, may.
    for (const [i, origin] of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, undefined].entries()) {
      const res = await rawRequest(port, { method: 'POST', path: '/api/export/picks', token, origin, body: exportBody(`same-${i}.csv`) });
      assert.equal(res.status, 200, `${origin}: ${res.body}`);
    }
    // Reading needs no Origin check: the browser keeps other sites from reading the answer.
    assert.equal((await rawRequest(port, { path: '/api/info', token, origin: 'http://evil.example' })).status, 200);
  });

  it('rejects a smoothing sigma too small to compute, which gave a slice of NaN', async () => {
    for (const sigma of ['1e-320', '5e-324', '0.01', '0.09']) {
      const res = await api(`/api/slice?axis=z&index=5&sigma=${sigma}`);
      assert.equal(res.status, 400, sigma);
      assert.match(((await res.json()) as { error: string }).error, /"sigma" = .* must be 0 \(no smoothing\) or between 0.1 and 10/, sigma);
    }
    for (const sigma of ['0', '0.1', '0.5', '10']) {
      const res = await api(`/api/slice?axis=x&index=5&sigma=${sigma}`);
      assert.equal(res.status, 200, sigma);
      assert.ok(new Float32Array(await res.arrayBuffer()).every(Number.isFinite), sigma);
    }
  });

  it("rejects topK 0 (and other non-counts) with the pipeline's rule", async () => {
    for (const topK of [0, -1, 1.5, 'all', null, 100_001]) {
      const res = await api('/api/pick', postJsonInit({ prompts: [{ x: 37, y: 15, z: 5 }], topK }));
      assert.equal(res.status, 400, String(topK));
      const { error } = (await res.json()) as { error: string };
      assert.match(error, /topK/, String(topK));
      if (topK !== 100_001) assert.ok(error.includes(TOP_K_RULE), error);
    }
  });

  it('never replaces an existing export unless the request asks to', async () => {
    const first = [{ x: 1, y: 2, z: 3 }];
    const again = [{ x: 4, y: 5, z: 6 }];
    assert.equal((await api('/api/export/picks', postJsonInit({ name: 'kept.csv', format: 'csv', picks: first }))).status, 200);
    const written = await readFile(path.join(outDir, 'kept.csv'), 'utf8');
    const res = await api('/api/export/picks', postJsonInit({ name: 'kept.csv', format: 'csv', picks: again }));
    assert.equal(res.status, 409);
    const answer = (await res.json()) as { error: string; exists?: boolean };
    assert.equal(answer.exists, true);
    assert.match(answer.error, /kept\.csv already exists/);
    assert.equal(await readFile(path.join(outDir, 'kept.csv'), 'utf8'), written);
    // A mask export over an existing file is refused the same way.
    const mask = await api('/api/export/mask', postJsonInit({ name: 'kept.csv' }));
    assert.equal(mask.status, 409);
    assert.equal(((await mask.json()) as { exists?: boolean }).exists, true);
    assert.equal(await readFile(path.join(outDir, 'kept.csv'), 'utf8'), written);
    // Asked to, it replaces the file.
    const replaced = await api('/api/export/picks', postJsonInit({ name: 'kept.csv', format: 'csv', picks: again, overwrite: true }));
    assert.equal(replaced.status, 200);
    assert.notEqual(await readFile(path.join(outDir, 'kept.csv'), 'utf8'), written);
  });

  it('never replaces an input, even when asked to: links to the tomogram or --mask are refused', async () => {
    const tomo = path.join(tmp.dir, 'tomo.mrc');
    const before = await readFile(tomo);
    await symlink(tomo, path.join(outDir, 'alias.mrc'));
    await link(path.join(tmp.dir, 'mask.mrc'), path.join(outDir, 'hard.mrc'));
    for (const name of ['alias.mrc', 'hard.mrc']) {
      const picks = await api('/api/export/picks', postJsonInit({ name, format: 'relion4', picks: [{ x: 1, y: 2, z: 3 }], overwrite: true }));
      assert.equal(picks.status, 400, name);
      assert.match(((await picks.json()) as { error: string }).error, /is the input .*never overwrites an input/, name);
      const mask = await api('/api/export/mask', postJsonInit({ name, overwrite: true }));
      assert.equal(mask.status, 400, name);
    }
    assert.deepEqual(await readFile(tomo), before);
    assert.ok((await lstat(path.join(outDir, 'alias.mrc'))).isSymbolicLink());
  });

  it('exports the --mask file until a Find all; particles are chosen only from Find all results', async () => {
    const res = await api('/api/export/mask', postJsonInit({ name: 'chosen.mrc', instances: [1] }));
    assert.equal(res.status, 409);
    assert.match(((await res.json()) as { error: string }).error, /Find all/);
    const keep = await api('/api/mask/keep', postJsonInit({ instances: [] }));
    assert.equal(keep.status, 409);
    assert.equal((await api('/api/mask/keep')).status, 405);
  });
});

describe('viewer files: inputs, NaN voxels and the run report', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let tomo: string;
  let picksFile: string;

  before(async () => {
    ensurePageBuilt();
    tmp = await tempDir('cryosam-viewer-files-');
    const [nz, ny, nx] = SHAPE;
    const data = new Float32Array(nz * ny * nx).map((_, i) => i % 97);
    tomo = path.join(tmp.dir, 'tomo.mrc');
    await writeMrc(tomo, { data, shape: SHAPE, voxelSize: { x: 10, y: 10, z: 10 } });
    picksFile = path.join(tmp.dir, 'picks.star');
    await writePicks(picksFile, [{ x: 5, y: 6, z: 7 }], { voxelSize: 10, shape: SHAPE }, { format: 'relion4' });
  });

  after(async () => {
    await tmp?.cleanup();
  });

  it("refuses to export over the tomogram or --picks when the out folder is theirs (it overwrote tomo.mrc)", async () => {
    const server = await startViewer({ tomogram: tomo, picks: picksFile, outDir: tmp.dir, cacheDir: path.join(tmp.dir, 'cache') });
    try {
      const api = client(server.url, server.token);
      const tomoBytes = await readFile(tomo);
      const picksText = await readFile(picksFile, 'utf8');
      for (const overwrite of [false, true]) {
        for (const name of ['tomo.mrc', 'picks.star']) {
          const res = await api('/api/export/picks', postJsonInit({ name, format: 'relion4', picks: [{ x: 1, y: 2, z: 3 }], overwrite }));
          assert.equal(res.status, 400, `${name} overwrite=${overwrite}`);
          const { error } = (await res.json()) as { error: string };
          assert.ok(error.includes(path.join(tmp.dir, name)), error);
          assert.match(error, /is the input/);
        }
      }
      const segment = await api('/api/segment', postJsonInit({ prompt: { x: 30, y: 20, z: 10 } }));
      assert.equal(segment.status, 202);
      let job = (await segment.json()) as JobStatus;
      while (job.state === 'running') {
        await new Promise((r) => setTimeout(r, 50));
        job = (await (await api(`/api/jobs/${job.id}`)).json()) as JobStatus;
      }
      const mask = await api('/api/export/mask', postJsonInit({ name: 'tomo.mrc', overwrite: true }));
      assert.equal(mask.status, 400);
      assert.deepEqual(await readFile(tomo), tomoBytes);
      assert.equal(await readFile(picksFile, 'utf8'), picksText);
    } finally {
      await server.close();
    }
  });

  it('writes its run report under a free name, never over an existing view-report.json', async () => {
    const outDir = path.join(tmp.dir, 'report-out');
    await mkdir(outDir);
    await writeFile(path.join(outDir, 'view-report.json'), 'an earlier session\'s report\n');
    const server = await startViewer({ tomogram: tomo, outDir, cacheDir: path.join(tmp.dir, 'cache') });
    const api = client(server.url, server.token);
    // This session's export takes the next name.
    const res = await api('/api/export/picks', postJsonInit({ name: 'view-report-2.json', format: 'csv', picks: [{ x: 1, y: 2, z: 3 }] }));
    assert.equal(res.status, 200);
    const exported = await readFile(path.join(outDir, 'view-report-2.json'), 'utf8');
    await server.close();
    const report = await server.session.writeReport(12.5);
    assert.equal(report, path.join(outDir, 'view-report-3.json'));
    const content = JSON.parse(await readFile(report, 'utf8')) as { command: string; tomogram: string; exports: string[]; seconds: number };
    assert.equal(content.command, 'view');
    assert.equal(content.tomogram, tomo);
    assert.deepEqual(content.exports, [path.join(outDir, 'view-report-2.json')]);
    assert.equal(content.seconds, 12.5);
    assert.equal(await readFile(path.join(outDir, 'view-report.json'), 'utf8'), 'an earlier session\'s report\n');
    assert.equal(await readFile(path.join(outDir, 'view-report-2.json'), 'utf8'), exported);
    // A session that exported nothing leaves no report.
    const idle = await startViewer({ tomogram: tomo, outDir, cacheDir: path.join(tmp.dir, 'cache') });
    await idle.close();
    assert.equal(await idle.session.writeReport(1), undefined);
    assert.deepEqual(readdirSync(outDir).sort(), ['view-report-2.json', 'view-report-3.json', 'view-report.json']);
  });

  it('answers 422 naming the file for slices holding NaN voxels, and fails Find all the same way', async () => {
    const nan = path.join(tmp.dir, 'nan.mrc');
    // Voxel (x 3, y 4, z 0): section 0 is not among the sections sampled for contrast at open.
    await copyWithVoxel(tomo, nan, (4 * SHAPE[2] + 3), Number.NaN);
    const server = await startViewer({ tomogram: nan, outDir: path.join(tmp.dir, 'nan-out'), cacheDir: path.join(tmp.dir, 'cache') });
    try {
      const api = client(server.url, server.token);
      for (const query of ['axis=z&index=0', 'axis=y&index=4', 'axis=x&index=3', 'axis=x&index=3&sigma=1&ds=2']) {
        const res = await api(`/api/slice?${query}`);
        assert.equal(res.status, 422, query);
        const { error } = (await res.json()) as { error: string };
        assert.ok(error.startsWith(`${nan}: voxel (x=3, y=4, z=0) is NaN`), error);
      }
      // Slices without the voxel are served, finite.
      for (const query of ['axis=z&index=1', 'axis=y&index=5', 'axis=x&index=5', 'axis=x&index=30']) {
        const res = await api(`/api/slice?${query}`);
        assert.equal(res.status, 200, query);
        assert.ok(new Float32Array(await res.arrayBuffer()).every(Number.isFinite), query);
      }
      const started = await api('/api/pick', postJsonInit({ prompts: [{ x: 30, y: 20, z: 10 }] }));
      let job = (await started.json()) as JobStatus;
      while (job.state === 'running') {
        await new Promise((r) => setTimeout(r, 50));
        job = (await (await api(`/api/jobs/${job.id}`)).json()) as JobStatus;
      }
      assert.equal(job.state, 'failed');
      assert.ok(job.error?.startsWith(`${nan}: voxel (x=3, y=4, z=0) is NaN`), job.error);
    } finally {
      await server.close();
    }
    // NaN in a section sampled for contrast: refused at open, like the CLI.
    const sampled = path.join(tmp.dir, 'nan-sampled.mrc');
    await copyWithVoxel(tomo, sampled, 10 * SHAPE[1] * SHAPE[2] + 7, Number.POSITIVE_INFINITY);
    await assert.rejects(startViewer({ tomogram: sampled, outDir: path.join(tmp.dir, 'nan-out') }), (err: Error) => {
      assert.ok(err instanceof CryosamError);
      assert.match(err.message, /nan-sampled\.mrc: voxel \(x=7, y=0, z=10\) is Infinity/);
      return true;
    });
  });
});

describe('viewer mask follows the picks kept', () => {
  const shape = [32, 64, 64] as const;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: ViewerServer;
  let api: ReturnType<typeof client>;
  let picks: PickDto[];

  /** Writes the mask of `instances` (all kept ones when undefined) and reads it back. */
  async function exportMask(name: string, instances?: number[]): Promise<Uint8Array> {
    const res = await api('/api/export/mask', postJsonInit({ name, ...(instances ? { instances } : {}) }));
    assert.equal(res.status, 200, await res.clone().text());
    const { readMrc } = await import('../../src/io/mrc/index.js');
    return Uint8Array.from((await readMrc(((await res.json()) as ExportResponse).path)).data, (v) => (v !== 0 ? 1 : 0));
  }
  const count = (m: Uint8Array) => m.reduce((n, v) => n + v, 0);

  before(async () => {
    ensurePageBuilt();
    tmp = await tempDir('cryosam-viewer-keep-');
    const particles = scatter(shape, 10, 12, ['sphere'], 2);
    const { volume } = synthetic(shape, particles, { radius: 4, contrast: 4, seed: 8 });
    await writeMrc(path.join(tmp.dir, 'spheres.mrc'), volume);
    server = await startViewer({ tomogram: path.join(tmp.dir, 'spheres.mrc'), outDir: path.join(tmp.dir, 'out'), cacheDir: path.join(tmp.dir, 'cache') });
    api = client(server.url, server.token);
    let job = (await (await api('/api/pick', postJsonInit({ prompts: [particles[0]], topK: 8 }))).json()) as JobStatus;
    while (job.state === 'running') {
      await new Promise((r) => setTimeout(r, 50));
      job = (await (await api(`/api/jobs/${job.id}`)).json()) as JobStatus;
    }
    assert.equal(job.state, 'done', job.error);
    picks = (job.result as PickJobResult).picks;
  });

  after(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  it('gives every Find all pick the id of its mask instance', () => {
    assert.ok(picks.length >= 3, `${picks.length} picks`);
    const ids = picks.map((p) => p.instance);
    assert.ok(ids.every((id) => Number.isInteger(id)));
    assert.equal(new Set(ids).size, ids.length);
  });

  it('exports the mask of exactly the instances sent (it ignored the threshold)', async () => {
    const ids = picks.map((p) => p.instance!);
    const all = await exportMask('all.mrc');
    const singles = await Promise.all(ids.map((id, i) => exportMask(`single-${i}.mrc`, [id])));
    singles.forEach((m, i) => assert.equal(count(m), picks[i].voxels, `instance ${ids[i]} has its pick's voxels`));
    // Two of the picks: exactly the union of their masks, fewer voxels than all of them.
    const pair = await exportMask('pair.mrc', [ids[0], ids[2]]);
    assert.ok(pair.every((v, k) => v === (singles[0][k] | singles[2][k])), 'pair = union of its two instances');
    assert.ok(count(pair) < count(all));
    assert.ok(all.every((v, k) => v === (singles.some((m) => m[k] === 1) ? 1 : 0)), 'no instances: all of them');
    assert.equal(count(await exportMask('none.mrc', [])), 0);
    const unknown = await api('/api/export/mask', postJsonInit({ name: 'unknown.mrc', instances: [ids[0], 999_999] }));
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { error: string }).error, /instance 999999 is not a pick of the last Find all/);
  });

  it('overlays, and by default exports, only the instances the page keeps', async () => {
    const ids = picks.map((p) => p.instance!);
    const kept = [ids[1]];
    const keep = await api('/api/mask/keep', postJsonInit({ instances: kept }));
    assert.equal(keep.status, 200);
    assert.deepEqual(await keep.json(), { kept: 1 });
    const expected = await exportMask('kept-default.mrc');
    assert.equal(count(expected), picks[1].voxels);
    const [, ny, nx] = shape;
    for (const p of picks) {
      const z = Math.round(p.z);
      const bits = new Uint8Array(await (await api(`/api/overlay?axis=z&index=${z}`)).arrayBuffer());
      const slice = expected.subarray(z * ny * nx, (z + 1) * ny * nx);
      assert.ok(bits.every((b, k) => (b & 1) === slice[k]), `overlay z = ${z} shows the kept instance only`);
    }
    const x = Math.round(picks[0].x);
    const yz = new Uint8Array(await (await api(`/api/overlay?axis=x&index=${x}`)).arrayBuffer());
    assert.ok(yz.every((b, k) => (b & 1) === expected[(Math.floor(k / ny) * ny + (k % ny)) * nx + x]), 'YZ overlay');
    assert.equal((await api('/api/mask/keep', postJsonInit({ instances: [999_999] }))).status, 400);
    assert.equal((await api('/api/mask/keep', postJsonInit({ instances: [] }))).status, 200);
    const none = new Uint8Array(await (await api(`/api/overlay?axis=z&index=${Math.round(picks[1].z)}`)).arrayBuffer());
    assert.ok(none.every((b) => b === 0));
  });
});

describe('viewer filaments and membranes (the real microtubule)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: ViewerServer;
  let api: ReturnType<typeof client>;
  /** On the tube's wall in the 44×136×84 crop (voxels). */
  const WALL = { x: 43, y: 115, z: 23 };

  /** Starts a job and polls it to its end. */
  async function runJob(route: string, body: unknown): Promise<JobStatus> {
    const started = await api(route, postJsonInit(body));
    assert.equal(started.status, 202, await started.clone().text());
    let job = (await started.json()) as JobStatus;
    while (job.state === 'running') {
      await new Promise((r) => setTimeout(r, 100));
      job = (await (await api(`/api/jobs/${job.id}`)).json()) as JobStatus;
    }
    return job;
  }

  before(async () => {
    ensurePageBuilt();
    tmp = await tempDir('cryosam-viewer-mt-');
    const tomogram = path.join(sharedDir(), 'data', 'real_microtubule', '14pf_MT.mrc');
    server = await startViewer({ tomogram, outDir: path.join(tmp.dir, 'out'), cacheDir: path.join(tmp.dir, 'cache') });
    api = client(server.url, server.token);
  });

  after(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  it('segments the clicked microtubule as a filament, says its size, and overlays its tube on many sections', async () => {
    const job = await runJob('/api/segment', { prompt: WALL, structure: 'auto' });
    assert.equal(job.state, 'done', job.error);
    const result = job.result as SegmentJobResult;
    assert.equal(result.structure, 'filament');
    assert.equal(result.decidedBy, 'auto');
    const f = result.filament!;
    assert.ok(f.lengthNm > 100, `${f.lengthNm} nm long`);
    assert.ok(f.outerDiameterNm > 20 && f.outerDiameterNm < 40, `${f.outerDiameterNm} nm across`);
    assert.ok(f.innerDiameterNm > 0 && f.innerDiameterNm < f.outerDiameterNm, `lumen ${f.innerDiameterNm} nm`);
    assert.ok(f.axis.length >= 10);
    assert.ok(result.voxels > 10_000);
    let sections = 0;
    for (let z = 0; z < 44; z += 4) {
      const bits = new Uint8Array(await (await api(`/api/overlay?axis=z&index=${z}`)).arrayBuffer());
      if (bits.some((b) => (b & 2) !== 0)) sections++;
    }
    assert.ok(sections >= 4, `the tube is on ${sections} of 11 sections`);
  });

  it('finds all filaments after a filament was segmented (auto), with their axis points as picks', async () => {
    const job = await runJob('/api/pick', { prompts: [WALL] });
    assert.equal(job.state, 'done', job.error);
    const result = job.result as PickJobResult;
    assert.equal(result.structures?.kind, 'filament');
    assert.ok(result.structures!.count >= 1, `${result.structures!.count} filaments`);
    const instances = new Set(result.picks.map((p) => p.instance));
    assert.equal(instances.size, result.structures!.count, 'one instance per filament, shared by its axis points');
    assert.ok(result.picks.length >= 10 && result.picks.every((p) => p.radius !== undefined));
    const bits = new Uint8Array(await (await api(`/api/overlay?axis=z&index=${WALL.z}`)).arrayBuffer());
    assert.ok(bits.some((b) => (b & 1) !== 0), 'the filaments are the semantic mask');
  });

  it('answers a membrane asked for in empty ice with the pipeline\'s message and a 4xx status, not a crash', async () => {
    const job = await runJob('/api/segment', { prompt: { x: 20, y: 20, z: 10 }, structure: 'membrane' });
    assert.equal(job.state, 'failed');
    assert.match(job.error ?? '', /^no membrane found at x=20, y=20, z=10/);
    assert.equal(job.errorStatus, 400);
    assert.doesNotMatch(job.error ?? '', /\n\s+at /, 'no stack trace');
    // The server keeps serving, and Find all with a named kind fails the same way.
    assert.equal((await api('/api/info')).status, 200);
    const pick = await runJob('/api/pick', { prompts: [{ x: 20, y: 20, z: 10 }], structure: 'membrane' });
    assert.equal(pick.state, 'failed');
    assert.match(pick.error ?? '', /no membrane found/);
    assert.equal(pick.errorStatus, 400);
  });
});

/** `from` copied to `to` with voxel number `index` (C order) set to `value`, which writeMrc would refuse. */
async function copyWithVoxel(from: string, to: string, index: number, value: number): Promise<void> {
  const bytes = await readFile(from);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataStart = 1024 + view.getInt32(92, true);
  view.setFloat32(dataStart + 4 * index, value, true);
  await writeFile(to, bytes);
}

/**
 * A request through node:http, which (unlike fetch) reports the answer to an oversized upload and
 * sends any Host and Origin: `host` null sends none, undefined the real one.
 */
function rawRequest(
  port: number,
  opts: { path: string; token: string; method?: string; body?: string; host?: string | null; origin?: string },
): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { 'x-cryosam-token': opts.token, 'content-type': 'application/json' };
  if (opts.host) headers.host = opts.host;
  if (opts.origin !== undefined) headers.origin = opts.origin;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: opts.path, method: opts.method ?? 'GET', headers, setHost: opts.host !== null },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
