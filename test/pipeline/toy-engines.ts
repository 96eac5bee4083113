/**
 * Minimal engines for pipeline plumbing tests (tests only): the segmenter thresholds a smoothed
 * slice and keeps the dark connected component under the point; the extractor describes each
 * 4×4 cell by its mean darkness and the darkness of a ring around it.
 */
import type {
  EngineIdentity, FeatureExtractor, FeatureGrid, PromptableSegmenter, SegmentRequest, SegmentResult, Slice2D, SliceEmbedding,
} from '../../src/engines/types.js';

interface ToyEmbedding extends SliceEmbedding {
  data: Float32Array;
}

function boxSmooth(s: Slice2D): Float32Array {
  const { data, height: h, width: w } = s;
  const out = new Float32Array(h * w);
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++) {
      let sum = 0, n = 0;
      for (let dr = -1; dr <= 1; dr++)
        for (let dc = -1; dc <= 1; dc++) {
          const rr = r + dr, cc = c + dc;
          if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
          sum += data[rr * w + cc];
          n++;
        }
      out[r * w + c] = sum / n;
    }
  return out;
}

export class ToySegmenter implements PromptableSegmenter {
  embedCalls = 0;
  identity(): EngineIdentity {
    return { name: 'toy-segmenter', params: { threshold: -0.8 } };
  }
  async embed(slices: Slice2D[]): Promise<SliceEmbedding[]> {
    this.embedCalls += slices.length;
    return slices.map((s) => ({ height: s.height, width: s.width, data: boxSmooth(s) }) as ToyEmbedding);
  }
  async decode(embedding: SliceEmbedding, req: SegmentRequest): Promise<SegmentResult> {
    const e = embedding as ToyEmbedding;
    const { height: h, width: w } = e;
    const mask = new Uint8Array(h * w);
    const pos = req.points.find((p) => p.label === 1);
    const seed = pos ? Math.round(pos.y) * w + Math.round(pos.x) : -1;
    let best = seed, n = 0;
    if (seed >= 0 && seed < h * w && e.data[seed] < -0.8) {
      const stack = [seed];
      mask[seed] = 1;
      while (stack.length) {
        const i = stack.pop()!;
        n++;
        if (e.data[i] < e.data[best]) best = i;
        const r = Math.floor(i / w), c = i % w;
        for (const [rr, cc] of [[r - 1, c], [r + 1, c], [r, c - 1], [r, c + 1]]) {
          if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
          const j = rr * w + cc;
          if (!mask[j] && e.data[j] < -0.8) {
            mask[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    const logits = Float32Array.from(mask, (m) => (m ? 1 : -1));
    return {
      masks: [mask],
      scores: Float32Array.of(n > 0 ? 0.9 : 0),
      lowRes: [{ data: logits, height: h, width: w }],
      bestPoints: n > 0 ? [{ x: best % w, y: Math.floor(best / w) }] : [],
    };
  }
  serializeEmbedding(embedding: SliceEmbedding): Uint8Array {
    const e = embedding as ToyEmbedding;
    const out = new Uint8Array(8 + e.data.byteLength);
    new Int32Array(out.buffer, 0, 2).set([e.height, e.width]);
    out.set(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength), 8);
    return out;
  }
  deserializeEmbedding(bytes: Uint8Array): SliceEmbedding {
    const copy = bytes.slice();
    const [height, width] = new Int32Array(copy.buffer, 0, 2);
    return { height, width, data: new Float32Array(copy.buffer, 8, height * width) } as ToyEmbedding;
  }
  async dispose(): Promise<void> {}
}

export class ToyFeatures implements FeatureExtractor {
  identity(): EngineIdentity {
    return { name: 'toy-features', params: { stride: 4 } };
  }
  async extract(slices: Slice2D[]): Promise<FeatureGrid[]> {
    return slices.map((s) => {
      const stride = 4;
      const gh = Math.ceil(s.height / stride), gw = Math.ceil(s.width / stride);
      const mean = new Float32Array(gh * gw);
      for (let r = 0; r < s.height; r++)
        for (let c = 0; c < s.width; c++) mean[Math.floor(r / stride) * gw + Math.floor(c / stride)] -= s.data[r * s.width + c] / (stride * stride);
      const C = 3;
      const data = new Float32Array(gh * gw * C);
      for (let r = 0; r < gh; r++)
        for (let c = 0; c < gw; c++) {
          const at = (rr: number, cc: number) => mean[Math.min(gh - 1, Math.max(0, rr)) * gw + Math.min(gw - 1, Math.max(0, cc))];
          const i = (r * gw + c) * C;
          data[i] = at(r, c);
          data[i + 1] = (at(r - 1, c) + at(r + 1, c)) / 2;
          data[i + 2] = (at(r, c - 1) + at(r, c + 1)) / 2;
        }
      return { data, height: gh, width: gw, channels: C, stride };
    });
  }
  async dispose(): Promise<void> {}
}
