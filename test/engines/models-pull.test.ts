import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { readManifest } from '../../src/engines/models/manifest.js';
import { pullModel, verifyModels } from '../../src/engines/models/pull.js';
import { openFeaturesFolder } from '../../src/engines/onnx/open-model.js';
import { dinoModel } from '../helpers/onnx-models.js';

/** A local stand-in for the model hub: serves bytes per path, honours Range, can drop a connection once. */
function startServer(files: Map<string, Uint8Array>) {
  const log: Array<{ path: string; range?: string }> = [];
  const dropOnce = new Set<string>();
  const server = http.createServer((req, res) => {
    const p = req.url ?? '';
    log.push({ path: p, range: req.headers.range });
    const body = files.get(p);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const chunk = body.subarray(start);
    res.writeHead(m ? 206 : 200, { 'content-length': chunk.length, ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    if (dropOnce.delete(p)) {
      // Send half, give the client time to read it, then cut the connection.
      res.write(chunk.subarray(0, chunk.length >> 1), () => setTimeout(() => res.socket?.destroy(), 100));
      return;
    }
    res.end(chunk);
  });
  return { server, log, dropOnce };
}

describe('cryosam models pull / verify against a local server', () => {
  const dino = dinoModel(518, 14, 0);
  const files = new Map<string, Uint8Array>([
    ['/dinov2-vitb14/model.onnx', dino],
    ['/sam-vit-b/encoder.onnx', new TextEncoder().encode('not the published encoder')],
  ]);
  const { server, log, dropOnce } = startServer(files);
  let baseUrl: string;
  let modelsDir: string;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(async () => {
    modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-pull-'));
    log.length = 0;
  });
  afterEach(async () => {
    await fs.rm(modelsDir, { recursive: true, force: true });
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('downloads, records the computed sha256 when none is published, and the model opens', async () => {
    const seen: number[] = [];
    const res = await pullModel('dinov2-vitb14', { modelsDir, baseUrl, onProgress: (_f, done) => seen.push(done) });
    const sha = createHash('sha256').update(dino).digest('hex');
    assert.deepEqual(res.files.map((f) => [f.file, f.sha256, f.checksum, f.downloaded]), [['model.onnx', sha, 'recorded', true]]);
    assert.equal(seen.at(-1), dino.length);
    const m = await readManifest(res.dir);
    assert.equal(m.kind, 'dinov2');
    assert.equal(m.kind === 'dinov2' && m.model.sha256, sha);
    await assert.rejects(fs.access(path.join(res.dir, 'model.onnx.part')));
    const features = await openFeaturesFolder(res.dir);
    try {
      const [grid] = await features.extract([{ data: new Float32Array(100 * 50).fill(1), height: 100, width: 50 }]);
      assert.deepEqual([grid.height, grid.width], [37, 19]);
    } finally {
      await features.dispose();
    }
    // A second pull finds the file intact and downloads nothing.
    log.length = 0;
    const again = await pullModel('dinov2-vitb14', { modelsDir, baseUrl });
    assert.equal(again.files[0].downloaded, false);
    assert.equal(log.length, 0);
  });

  it('resumes with an HTTP Range request after the server drops the connection', async () => {
    dropOnce.add('/dinov2-vitb14/model.onnx');
    const res = await pullModel('dinov2-vitb14', { modelsDir, baseUrl });
    assert.equal(res.files[0].sha256, createHash('sha256').update(dino).digest('hex'));
    assert.equal(log.length, 2);
    assert.equal(log[0].range, undefined);
    assert.match(log[1].range ?? '', /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(log[1].range ?? '')?.[0]) > 0, 'resumed past the bytes already on disk');
  });

  it('keeps the partial file across runs and resumes it on the next pull', async () => {
    dropOnce.add('/dinov2-vitb14/model.onnx');
    await assert.rejects(pullModel('dinov2-vitb14', { modelsDir, baseUrl, retries: 0 }), /run the same command again to resume/);
    const part = await fs.stat(path.join(modelsDir, 'dinov2-vitb14', 'model.onnx.part'));
    assert.ok(part.size > 0 && part.size < dino.length);
    await pullModel('dinov2-vitb14', { modelsDir, baseUrl });
    assert.equal(log.at(-1)?.range, `bytes=${part.size}-`);
    assert.ok(Buffer.from(dino).equals(await fs.readFile(path.join(modelsDir, 'dinov2-vitb14', 'model.onnx'))));
  });

  it('rejects a download whose sha256 differs from the published one', async () => {
    await assert.rejects(pullModel('sam-vit-b', { modelsDir, baseUrl }), (err: unknown) => {
      assert.ok(err instanceof CryosamError);
      assert.match(err.message, /checksum mismatch/);
      assert.match(err.message, /08d1b45ed63bcb74a6504f01392dafd4b39b9c1df657321b914f4bf56b3754c9/);
      return true;
    });
    await assert.rejects(fs.access(path.join(modelsDir, 'sam-vit-b', 'encoder.onnx')));
    await assert.rejects(fs.access(path.join(modelsDir, 'sam-vit-b', 'encoder.onnx.part')));
  });

  it('verify re-hashes: a corrupted file is reported with how to get it again', async () => {
    await pullModel('dinov2-vitb14', { modelsDir, baseUrl });
    assert.deepEqual((await verifyModels(modelsDir)).map((r) => [r.name, r.ok]), [['dinov2-vitb14', true]]);
    const file = path.join(modelsDir, 'dinov2-vitb14', 'model.onnx');
    await fs.appendFile(file, 'x');
    const [report] = await verifyModels(modelsDir, 'dinov2-vitb14');
    assert.equal(report.ok, false);
    assert.match(report.detail, /corrupt.*cryosam models pull dinov2-vitb14/);
    await fs.rm(file);
    assert.match((await verifyModels(modelsDir, 'dinov2-vitb14'))[0].detail, /missing .*cryosam models pull dinov2-vitb14/);
    await assert.rejects(pullModel('no-such-model', { modelsDir, baseUrl }), /unknown model 'no-such-model'/);
  });
});
