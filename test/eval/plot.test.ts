import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { plotLines, renderLinePlot, SERIES_COLORS, type LinePlot } from '../../src/eval/plot.js';
import { glyph, textWidth } from '../../src/eval/font5x7.js';

const plot: LinePlot = {
  title: 'F1 vs annotation ratio',
  xLabel: 'ratio (%)',
  yLabel: 'F1',
  width: 500,
  height: 320,
  xRange: [0, 100],
  yRange: [0, 1],
  series: [
    { name: 'classical', points: [[0, 0], [100, 1]] },
    { name: 'xfeat', points: [[0, 0.5], [50, 0.5], [100, 0.5]], errors: [0.1, 0.1, 0.1], style: 'points' },
  ],
};

function pixel(png: PNG, x: number, y: number): [number, number, number] {
  const i = (Math.round(y) * png.width + Math.round(x)) * 4;
  return [png.data[i], png.data[i + 1], png.data[i + 2]];
}

test('writes a valid PNG of the requested size with the series drawn where the data is', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cryosam-plot-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'f1.png');
  await plotLines(plot, file);
  const png = PNG.sync.read(await fs.readFile(file));
  assert.equal(png.width, 500);
  assert.equal(png.height, 320);

  const { toPixel } = renderLinePlot(plot);
  // Along the diagonal series (away from the legend and the other series): its colour.
  for (const x of [10, 30, 70]) {
    const [px, py] = toPixel(x, x / 100);
    assert.deepEqual(pixel(png, px, py), [...SERIES_COLORS[0]], `diagonal at x=${x}`);
  }
  // Markers of the second series sit on its points, but no line joins them.
  const [mx, my] = toPixel(50, 0.5);
  assert.deepEqual(pixel(png, mx, my), [...SERIES_COLORS[1]]);
  const [gx, gy] = toPixel(25, 0.5);
  assert.notDeepEqual(pixel(png, gx, gy), [...SERIES_COLORS[1]]);
  // Error bar end at y + 0.1 above the middle point.
  const [ex, ey] = toPixel(50, 0.6);
  assert.deepEqual(pixel(png, ex, ey), [...SERIES_COLORS[1]]);
  // The axes are black lines.
  const [ax, ay] = toPixel(0, 0.3);
  assert.deepEqual(pixel(png, ax, ay), [0, 0, 0]);
  // A corner far from everything stays white.
  assert.deepEqual(pixel(png, 499, 319), [255, 255, 255]);
});

test('font: glyphs are 7 rows of 5 bits; unknown characters draw as ?', () => {
  assert.deepEqual([...glyph('1')], [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e]);
  assert.deepEqual(glyph('\u2603'), glyph('?'));
  assert.equal(textWidth('F1'), 11);
});

test('automatic ranges include every point and its error bar', () => {
  const { png, toPixel } = renderLinePlot({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    series: [{ name: 's', points: [[3, 7], [8, 2]], errors: [1, 0] }],
  });
  assert.equal(png.width, 640);
  for (const [x, y] of [[3, 8], [8, 2]]) {
    const [px, py] = toPixel(x, y);
    assert.ok(px >= 64 && px <= 624 && py >= 34 && py <= 374, `(${x}, ${y}) inside the plot area`);
  }
});
