import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { CATALOG } from '../../src/engines/models/catalog.js';
import { MANIFEST_FILE, parseManifest, readManifest } from '../../src/engines/models/manifest.js';

function rejects(json: unknown, field: RegExp) {
  assert.throws(
    () => parseManifest(json, '/models/x/cryosam-model.json'),
    (err: unknown) => {
      assert.ok(err instanceof CryosamError);
      assert.match(err.message, /^\/models\/x\/cryosam-model\.json: invalid model manifest/);
      assert.match(err.message, field);
      return true;
    },
  );
}

describe('model manifests', () => {
  let tmp: string;
  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-manifest-'));
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('fills defaults for a minimal SAM pair and DINOv2', () => {
    const sam = parseManifest({ kind: 'sam', encoder: { file: 'e.onnx' }, decoder: { file: 'd.onnx' } }, 'm.json');
    assert.ok(sam.kind === 'sam');
    assert.equal(sam.encoder.inputSize, 1024);
    assert.equal(sam.encoder.layout, 'nchw');
    assert.deepEqual(sam.encoder.pixelMean, [123.675, 116.28, 103.53]);
    assert.equal(sam.decoder.inputs.maskInput, 'mask_input');
    assert.equal(sam.decoder.outputs.masks, 'masks');
    const dino = parseManifest({ kind: 'dinov2', model: { file: 'm.onnx', registerTokens: 4 } }, 'm.json');
    assert.ok(dino.kind === 'dinov2');
    assert.deepEqual([dino.model.inputSize, dino.model.patchSize, dino.model.registerTokens, dino.model.output], [518, 14, 4, 'last_hidden_state']);
  });

  it('names the manifest file and the offending field', () => {
    rejects({ kind: 'segformer', model: { file: 'a' } }, /kind/);
    rejects({ kind: 'sam', encoder: { file: 'e.onnx' } }, /decoder/);
    rejects({ kind: 'dinov2', model: { file: 'm.onnx', sha256: 'abc' } }, /model\.sha256: must be 64 lowercase hex digits/);
    rejects({ kind: 'sam', encoder: { file: 'e.onnx', layout: 'chw' }, decoder: { file: 'd.onnx' } }, /encoder\.layout/);
    rejects({ kind: 'dinov2', model: { file: 'm.onnx', patchSize: -14 } }, /model\.patchSize/);
  });

  it('reports a missing or unreadable manifest with how to get a model', async () => {
    await assert.rejects(readManifest(tmp), /no cryosam-model\.json: get a model with 'cryosam models pull NAME'/);
    await fs.writeFile(path.join(tmp, MANIFEST_FILE), '{ not json');
    await assert.rejects(readManifest(tmp), (err: unknown) => err instanceof CryosamError && /not valid JSON/.test(err.message) && err.message.includes(MANIFEST_FILE));
  });

  it('has a valid manifest for every catalog entry, naming every catalog file', () => {
    const names = new Set<string>();
    for (const entry of CATALOG) {
      assert.ok(!names.has(entry.name), `duplicate ${entry.name}`);
      names.add(entry.name);
      const m = parseManifest(entry.manifest, entry.name);
      const files = JSON.stringify(m);
      for (const f of entry.files) {
        assert.ok(files.includes(`"${f.file}"`), `${entry.name}: ${f.file} in manifest`);
        assert.ok(f.url?.startsWith('https://') || f.howToGet, `${entry.name}: ${f.file} has a URL or instructions`);
        if (f.sha256) assert.match(f.sha256, /^[0-9a-f]{64}$/);
      }
    }
    for (const required of ['sam-vit-b', 'sam-vit-l', 'sam-vit-h', 'mobilesam', 'edgesam', 'dinov2-vits14', 'dinov2-vitb14', 'dinov2-vitl14', 'dinov2-vits14-reg', 'dinov2-vitb14-reg', 'dinov2-vitl14-reg']) {
      assert.ok(names.has(required), required);
    }
  });
});
