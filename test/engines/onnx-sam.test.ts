import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CryosamError } from '../../src/errors.js';
import { openSegmenterFolder } from '../../src/engines/onnx/open-model.js';
import type { SamSegmenter } from '../../src/engines/onnx/sam.js';
import type { SamEmbedding } from '../../src/engines/onnx/sam-encoder.js';
import { pickCandidates } from '../../src/engines/onnx/sam-decoder.js';
import { SAM_PIXEL_MEAN, SAM_PIXEL_STD, writeManifest } from '../../src/engines/models/manifest.js';
import type { Slice2D } from '../../src/volume/slice.js';
import { TINY_DECODER_RADIUS, TINY_MULTI_SCORES, writeTinySam } from '../helpers/onnx-models.js';

/** Left half dark, right half bright. */
function halves(height: number, width: number): Slice2D {
  const data = new Float32Array(height * width);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = x < width / 2 ? -1 : 1;
  return { data, height, width };
}

describe('ONNX SAM segmenter (tiny models with the SAM contract)', () => {
  let tmp: string;
  let single: SamSegmenter;
  let multi: SamSegmenter;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-sam-'));
    single = await openSegmenterFolder(await writeTinySam(path.join(tmp, 'tiny-sam')));
    multi = await openSegmenterFolder(await writeTinySam(path.join(tmp, 'tiny-sam-multi'), { multimask: true }));
  });
  after(async () => {
    await single?.dispose();
    await multi?.dispose();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('resizes the longest side to 1024, normalises with SAM statistics and zero-pads bottom/right', async () => {
    // 512 rows × 256 columns → 1024 × 512 in the frame; columns 512..1023 are padding.
    const [emb] = (await single.embed([halves(512, 256)])) as SamEmbedding[];
    assert.deepEqual(emb.dims, [256, 64, 64]);
    assert.equal(emb.geometry.resizedHeight, 1024);
    assert.equal(emb.geometry.resizedWidth, 512);
    const ch0 = (r: number, c: number) => emb.data[r * 64 + c];
    const dark = (0 - SAM_PIXEL_MEAN[0]) / SAM_PIXEL_STD[0];
    const bright = (255 - SAM_PIXEL_MEAN[0]) / SAM_PIXEL_STD[0];
    assert.ok(Math.abs(ch0(10, 5) - dark) < 1e-3, `dark block ${ch0(10, 5)} vs ${dark}`);
    assert.ok(Math.abs(ch0(10, 25) - bright) < 1e-3, `bright block ${ch0(10, 25)} vs ${bright}`);
    for (const c of [32, 40, 63]) assert.equal(ch0(30, c), 0, 'padding is zero after normalisation');
  });

  it('batches slices and serialises embeddings losslessly', async () => {
    const embs = (await single.embed([halves(64, 64), halves(32, 96)])) as SamEmbedding[];
    assert.equal(embs.length, 2);
    assert.deepEqual([embs[1].height, embs[1].width], [32, 96]);
    const back = single.deserializeEmbedding(single.serializeEmbedding(embs[1])) as SamEmbedding;
    assert.deepEqual([back.height, back.width, back.geometry.resizedHeight], [32, 96, embs[1].geometry.resizedHeight]);
    assert.deepEqual(back.data, embs[1].data);
    assert.throws(() => single.deserializeEmbedding(new Uint8Array(40)), CryosamError);
  });

  it('maps point prompts into the 1024 frame and the most confident point back to slice pixels', async () => {
    // 200 × 100 slice: frame scale 5.12; the bump has radius 80 frame px = 15.6 slice px.
    const slice = halves(200, 100);
    const [emb] = await single.embed([slice]);
    const res = await single.decode(emb, { points: [{ x: 30, y: 120, label: 1 }] });
    assert.equal(res.masks.length, 1);
    assert.equal(res.masks[0].length, 200 * 100);
    const mask = res.masks[0];
    assert.equal(mask[120 * 100 + 30], 1, 'the prompt pixel is inside');
    let count = 0;
    let sx = 0;
    let sy = 0;
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 100; x++) {
        if (mask[y * 100 + x]) {
          count++;
          sx += x;
          sy += y;
        }
      }
    }
    const r = TINY_DECODER_RADIUS / 5.12;
    assert.ok(Math.abs(count - Math.PI * r * r) / (Math.PI * r * r) < 0.1, `disc area ${count}`);
    assert.ok(Math.abs(sx / count - 30) < 1 && Math.abs(sy / count - 120) < 1, `centroid ${sx / count},${sy / count}`);
    const best = res.bestPoints[0];
    assert.ok(Math.abs(best.x - 30) <= 1 && Math.abs(best.y - 120) <= 1, `best point ${best.x},${best.y}`);
    assert.equal(res.lowRes[0].height, 256);
    assert.ok(Math.abs(res.scores[0] - 0.95) < 1e-6);
  });

  it('passes the mask prompt to the decoder', async () => {
    const [emb] = await single.embed([halves(256, 256)]);
    const prior = new Float32Array(256 * 256);
    for (let i = 200; i < 240; i++) for (let j = 10; j < 50; j++) prior[i * 256 + j] = 50; // rows/cols 200..239, 10..49 (×1 here)
    const point = { x: 128, y: 128, label: 1 as const };
    const without = await single.decode(emb, { points: [point] });
    const withPrior = await single.decode(emb, { points: [point], maskInput: { data: prior, height: 256, width: 256 } });
    const at = (m: Uint8Array) => m[220 * 256 + 30];
    assert.equal(at(without.masks[0]), 0);
    assert.equal(at(withPrior.masks[0]), 1, 'the prior region is segmented only with the mask prompt');
    assert.equal(withPrior.masks[0][128 * 256 + 128], 1);
  });

  it('reads single- and 3-mask exports: best score for one mask, all three for multimask', async () => {
    const [emb] = await multi.embed([halves(128, 128)]);
    const point = { x: 64, y: 64, label: 1 as const };
    const one = await multi.decode(emb, { points: [point] });
    assert.equal(one.masks.length, 1);
    assert.ok(Math.abs(one.scores[0] - Math.max(...TINY_MULTI_SCORES)) < 1e-6);
    const three = await multi.decode(emb, { points: [point], multimask: true });
    assert.equal(three.masks.length, 3);
    const areas = three.masks.map((m) => m.reduce((a, v) => a + v, 0));
    assert.ok(areas[0] < areas[1] && areas[1] < areas[2], `areas grow with the logit offset: ${areas}`);
    assert.deepEqual(Array.from(three.scores, (s) => Math.round(s * 10) / 10), TINY_MULTI_SCORES);
  });

  it('upsamples low-res logits itself for exports without full-resolution masks (EdgeSAM style)', async () => {
    const dir = path.join(tmp, 'tiny-sam-lowres');
    await fs.mkdir(dir);
    for (const f of ['encoder.onnx', 'decoder.onnx']) await fs.copyFile(path.join(tmp, 'tiny-sam', f), path.join(dir, f));
    await writeManifest(dir, { kind: 'sam', encoder: { file: 'encoder.onnx' }, decoder: { file: 'decoder.onnx', outputs: { masks: null } } });
    const lowOnly = await openSegmenterFolder(dir);
    try {
      const slice = halves(150, 90);
      const request = { points: [{ x: 40, y: 70, label: 1 as const }] };
      const a = (await single.decode((await single.embed([slice]))[0], request)).masks[0];
      const b = (await lowOnly.decode((await lowOnly.embed([slice]))[0], request)).masks[0];
      let differ = 0;
      let inside = 0;
      for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) differ++;
        inside += a[i];
      }
      assert.ok(inside > 100);
      assert.ok(differ / inside < 0.05, `${differ} of ${inside} mask pixels differ`);
    } finally {
      await lowOnly.dispose();
    }
  });

  it('picks SAM candidates as segment-anything does for 1, 3 and 4 outputs', () => {
    assert.deepEqual(pickCandidates(Float32Array.of(0.5), true), [0]);
    assert.deepEqual(pickCandidates(Float32Array.of(0.1, 0.9, 0.3, 0.2), false), [0]);
    assert.deepEqual(pickCandidates(Float32Array.of(0.1, 0.9, 0.3, 0.2), true), [1, 2, 3]);
    assert.deepEqual(pickCandidates(Float32Array.of(0.1, 0.3, 0.2), false), [1]);
  });

  it('reports its identity with the weights sha256', () => {
    const id = single.identity();
    assert.equal(id.name, 'tiny-sam');
    assert.match(id.weightsSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(id.weightsSha256, multi.identity().weightsSha256);
    assert.equal(id.params.inputSize, 1024);
  });
});
