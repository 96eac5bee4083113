/**
 * The viewer in a real browser (Debian's chromium through playwright-core): prompt a particle of a
 * simulated tomogram, run Find all, review, export, and check the file against the page; then click
 * the wall of a real microtubule, segment it as a filament and find all filaments.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { writeMrc, readMrc } from '../../src/io/mrc/index.js';
import { readPicks } from '../../src/io/coords/index.js';
import { PRESETS, simulateTomogram, type Simulation } from '../../src/eval/simulate/index.js';
import { packageRoot, sharedDir } from '../../src/paths.js';
import { startViewer, type ViewerServer } from '../../src/viewer/server.js';
import type { PickDto, ViewAxis, VoxelXYZ } from '../../src/viewer/protocol.js';
import { ensurePageBuilt, tempDir } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];
const SCREENSHOTS = path.join(packageRoot(), 'test-output', 'viewer');

/** What the page exposes on (globalThis as unknown as PageGlobal).cryosam (the parts this test reads; see src/viewer/web/main.ts). */
interface PageApi {
  state(): { cursor: VoxelXYZ; prompts: (VoxelXYZ & { positive: boolean })[]; picks: PickDto[] };
  shownPicks(): PickDto[];
  clientPoint(axis: ViewAxis, p: VoxelXYZ): { x: number; y: number };
}
/** The page's global object as seen from page functions (this file compiles without DOM types). */
type PageGlobal = { cryosam: PageApi };

/** Starts Debian's chromium with a fresh profile in `dir`, collecting page errors into `errors`. */
async function openBrowser(dir: string, errors: string[]): Promise<{ context: BrowserContext; page: Page }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium) to run the viewer test`);
  }
  const profile = await mkdtemp(path.join(dir, 'chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1440, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => errors.push(e.message));
  // The 409 the page gets when it re-exports over a file (then asks the user) is expected; Chromium logs it.
  page.on('console', (m) => m.type() === 'error' && !/status of 409/.test(m.text()) && errors.push(m.text()));
  return { context, page };
}

/** Voxels of a mask as 0/1. */
const binary = (data: ArrayLike<number>): Uint8Array => Uint8Array.from(data, (v) => (v !== 0 ? 1 : 0));

describe('viewer end to end (chromium)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let sim: Simulation;
  let server: ViewerServer;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    ensurePageBuilt();
    tmp = await tempDir('cryosam-viewer-e2e-');
    sim = await simulateTomogram(PRESETS.easy, { seed: 11 });
    const tomogram = path.join(tmp.dir, 'easy.mrc');
    await writeMrc(tomogram, sim.tomogram);
    server = await startViewer({ tomogram, outDir: path.join(tmp.dir, 'out'), cacheDir: path.join(tmp.dir, 'cache') });
    ({ context, page } = await openBrowser(tmp.dir, pageErrors));
  });

  /** The mask the server writes for the instances of `picks`, asked directly (not through the page). */
  async function serverMask(picks: PickDto[]): Promise<Uint8Array> {
    const instances = picks.flatMap((p) => (p.instance !== undefined ? [p.instance] : []));
    assert.equal(instances.length, picks.length, 'every Find all pick has its instance');
    const res = await fetch(new URL('/api/export/mask', server.url), {
      method: 'POST',
      headers: { 'x-cryosam-token': server.token, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'expected_mask.mrc', instances, overwrite: true }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return binary((await readMrc(((await res.json()) as { path: string }).path)).data);
  }

  after(async () => {
    await context?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  it('prompts a particle, finds all, reviews and exports picks that match the page', async () => {
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });

    // A ribosome (the target class) well inside the tomogram.
    const [nz, ny, nx] = sim.tomogram.shape;
    const target = sim.picks
      .filter((p) => p.className === '4v7r')
      .sort((a, b) => Math.hypot(a.x - nx / 2, a.y - ny / 2, a.z - nz / 2) - Math.hypot(b.x - nx / 2, b.y - ny / 2, b.z - nz / 2))[0];
    const voxel = { x: Math.round(target.x), y: Math.round(target.y), z: Math.round(target.z) };

    // Step the XY view to the particle's section with the keyboard, as a user would.
    const xy = page.locator('.view[data-axis="z"] canvas');
    await xy.hover();
    const start = await page.evaluate(() => (globalThis as unknown as PageGlobal).cryosam.state().cursor.z);
    const key = voxel.z > start ? 'ArrowUp' : 'ArrowDown';
    for (let i = 0; i < Math.abs(voxel.z - start); i++) await page.keyboard.press(key);
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobal).cryosam.state().cursor.z), voxel.z);

    const at = await page.evaluate((v) => (globalThis as unknown as PageGlobal).cryosam.clientPoint('z', v), voxel);
    await page.mouse.click(at.x, at.y);
    const prompts = await page.evaluate(() => (globalThis as unknown as PageGlobal).cryosam.state().prompts);
    assert.equal(prompts.length, 1);
    assert.deepEqual({ x: prompts[0].x, y: prompts[0].y, z: prompts[0].z }, voxel);
    assert.equal(prompts[0].positive, true);

    await page.click('#find-all');
    await page.waitForFunction(() => (globalThis as unknown as PageGlobal).cryosam.state().picks.length > 0, undefined, { timeout: 240_000 });
    await page.waitForSelector('#job[hidden]', { state: 'attached' });
    const shown = Number(await page.textContent('#pick-count'));
    assert.ok(shown > 0);
    assert.equal(await page.locator('.pick-row').count(), shown);
    // The prompted ribosome is among the picks.
    const found = await page.evaluate(() => (globalThis as unknown as PageGlobal).cryosam.shownPicks());
    assert.ok(found.some((p) => Math.hypot(p.x - target.x, p.y - target.y, p.z - target.z) < 6), 'the prompted particle is picked');

    // Review: jump to the best pick (all views move to it and the XY view circles it), then delete the last one.
    await page.locator('.pick-row').first().click();
    const best = found[0];
    const cursor = await page.evaluate(() => (globalThis as unknown as PageGlobal).cryosam.state().cursor);
    assert.deepEqual(cursor, { x: Math.round(best.x), y: Math.round(best.y), z: Math.round(best.z) });
    for (const axis of ['z', 'y', 'x']) {
      await page.waitForSelector(`.view[data-axis="${axis}"] canvas[data-circles]:not([data-circles="0"])`);
      const circles = Number(await page.locator(`.view[data-axis="${axis}"] canvas`).getAttribute('data-circles'));
      assert.ok(circles >= 1 && circles <= shown, `${axis} view shows ${circles} circles`);
    }
    if (shown > 1) {
      await page.locator('.pick-row').last().locator('button').click();
      assert.equal(Number(await page.textContent('#pick-count')), shown - 1);
    }
    const reviewed = await page.evaluate(() => (globalThis as unknown as PageGlobal).cryosam.shownPicks());
    assert.equal(await page.locator('.pick-row').count(), reviewed.length);

    // Export as RELION STAR and compare with what the page shows.
    await page.fill('#export-name', 'reviewed.star');
    await page.selectOption('#export-format', 'relion4');
    await page.click('#export-picks');
    const written = (await page.locator('#export-path').textContent({ timeout: 10_000 }))!;
    assert.equal(path.dirname(written), path.join(tmp.dir, 'out'));
    const exported = await readPicks(written, { voxelSize: 10, shape: sim.tomogram.shape });
    assert.equal(exported.length, reviewed.length);
    exported.forEach((p, i) => {
      assert.ok(Math.hypot(p.x - reviewed[i].x, p.y - reviewed[i].y, p.z - reviewed[i].z) < 1e-3, `pick ${i} position`);
    });
    // The page's download link serves the same file.
    const href = (await page.locator('#export-result a').getAttribute('href'))!;
    const downloaded = await page.evaluate(async (u) => (await fetch(u)).text(), href);
    assert.match(downloaded, /_rlnCoordinateX/);

    // The semantic mask exports as MRC, with exactly the particles of the picks kept (not the deleted one).
    await page.click('#export-mask');
    await page.waitForSelector('#export-path:text-matches("\\.mrc$")');
    const maskPath = (await page.locator('#export-path').textContent())!;
    const mask = await readMrc(maskPath);
    assert.deepEqual([...mask.shape], [...sim.tomogram.shape]);
    assert.ok(mask.data.some((v) => v !== 0));
    assert.deepEqual(binary(mask.data), await serverMask(reviewed), 'mask = instances of the reviewed picks');

    // Raise the threshold: fewer picks kept; the mask exported again (over the same file, which the
    // page asks about) and the overlay hold only theirs.
    const scores = reviewed.flatMap((p) => (p.score !== undefined ? [p.score] : [])).sort((a, b) => a - b);
    assert.ok(new Set(scores).size >= 2, `picks with distinct scores: ${scores.join(', ')}`);
    await page.locator('#threshold').fill(String(scores[Math.floor(scores.length / 2)]));
    const kept = await page.evaluate(() => (globalThis as unknown as PageGlobal).cryosam.shownPicks());
    assert.ok(kept.length > 0 && kept.length < reviewed.length, `${kept.length} of ${reviewed.length} picks kept`);
    const dialogs: string[] = [];
    page.once('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.locator('#export-result').evaluate((el) => (el as unknown as { replaceChildren(): void }).replaceChildren());
    await page.click('#export-mask');
    await page.waitForSelector('#export-path');
    assert.match(dialogs[0] ?? '', /reviewed_mask\.mrc already exists/);
    assert.equal(await page.locator('#export-path').textContent(), maskPath);
    const keptMask = binary((await readMrc(maskPath)).data);
    assert.deepEqual(keptMask, await serverMask(kept), 'mask = instances of the picks above the threshold');
    const before = binary(mask.data);
    assert.ok(keptMask.reduce((n, v) => n + v, 0) < before.reduce((n, v) => n + v, 0));
    // The on-screen mask follows too: the page told the server which particles it keeps.
    const z = Math.floor(before.findIndex((v, k) => v !== keptMask[k]) / (ny * nx));
    const expected = keptMask.subarray(z * ny * nx, (z + 1) * ny * nx);
    const overlayMatches = async () => {
      const res = await fetch(new URL(`/api/overlay?axis=z&index=${z}`, server.url), { headers: { 'x-cryosam-token': server.token } });
      const bits = new Uint8Array(await res.arrayBuffer());
      return bits.every((b, k) => (b & 1) === expected[k]);
    };
    const deadline = Date.now() + 10_000;
    while (!(await overlayMatches())) {
      assert.ok(Date.now() < deadline, `overlay of section ${z} shows the kept particles only`);
      await new Promise((r) => setTimeout(r, 100));
    }

    await mkdir(SCREENSHOTS, { recursive: true });
    await page.mouse.move(at.x, at.y);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'viewer.png') });
    assert.deepEqual(pageErrors, []);
  });
});

describe('viewer end to end: a real microtubule (chromium)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: ViewerServer;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  /** On the tube's wall in the 44×136×84 crop (voxels); its axis runs near z = 22..23. */
  const WALL = { x: 43, y: 115, z: 23 };

  before(async () => {
    ensurePageBuilt();
    tmp = await tempDir('cryosam-viewer-e2e-mt-');
    const tomogram = path.join(sharedDir(), 'data', 'real_microtubule', '14pf_MT.mrc');
    server = await startViewer({ tomogram, outDir: path.join(tmp.dir, 'out'), cacheDir: path.join(tmp.dir, 'cache') });
    ({ context, page } = await openBrowser(tmp.dir, pageErrors));
  });

  after(async () => {
    await context?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  /** Sections (of every other one) whose overlay has the bits of `mask`, asked from the server. */
  async function overlaySections(mask: number): Promise<number> {
    let sections = 0;
    for (let z = 0; z < 44; z += 2) {
      const res = await fetch(new URL(`/api/overlay?axis=z&index=${z}`, server.url), { headers: { 'x-cryosam-token': server.token } });
      if (new Uint8Array(await res.arrayBuffer()).some((b) => (b & mask) !== 0)) sections++;
    }
    return sections;
  }

  it('segments the clicked microtubule as a filament, draws its axis, and finds all filaments', async () => {
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
    await page.selectOption('#structure', 'auto');

    // Step the XY view to the clicked section, then click the tube's wall there.
    await page.locator('.view[data-axis="z"] canvas').hover();
    const start = await page.evaluate(() => (globalThis as unknown as PageGlobal).cryosam.state().cursor.z);
    for (let i = 0; i < Math.abs(WALL.z - start); i++) await page.keyboard.press(WALL.z > start ? 'ArrowUp' : 'ArrowDown');
    const at = await page.evaluate((v) => (globalThis as unknown as PageGlobal).cryosam.clientPoint('z', v), WALL);
    await page.mouse.click(at.x, at.y);
    const prompts = await page.evaluate(() => (globalThis as unknown as PageGlobal).cryosam.state().prompts);
    assert.deepEqual(prompts.map(({ x, y, z }) => ({ x, y, z })), [WALL]);

    await page.click('#segment');
    await page.waitForSelector('#status:text-matches("^(filament|membrane|particle)")', { timeout: 60_000 });
    const said = (await page.textContent('#status'))!;
    assert.match(said, /^filament: \d+ nm long, [\d.]+ nm across, hollow/);
    assert.ok(Number(/(\d+) nm long/.exec(said)![1]) > 100, said);
    assert.ok((await overlaySections(2)) >= 5, 'the segmented tube is on the overlay of several sections');
    // The traced axis lies near the clicked section: dots on the XY view, and where it crosses the other two.
    await page.waitForSelector('.view[data-axis="z"] canvas[data-axis-dots]:not([data-axis-dots="0"])');
    const dots = Number(await page.locator('.view[data-axis="z"] canvas').getAttribute('data-axis-dots'));
    assert.ok(dots >= 10, `${dots} axis dots on the XY view`);
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'viewer-filament-segment.png') });

    await page.click('#find-all');
    await page.waitForSelector('#status:text-matches("^Found")', { timeout: 120_000 });
    const found = (await page.textContent('#status'))!;
    const count = /^Found (\d+) filaments? \((\d+) axis points?\)/.exec(found);
    assert.ok(count, found);
    assert.ok(Number(count[1]) >= 1);
    assert.equal(Number(await page.textContent('#pick-count')), Number(count[2]), 'the axis points are the picks');
    assert.ok((await overlaySections(1)) >= 5, 'the filaments are the mask on several sections');
    await page.waitForSelector('.view[data-axis="z"] canvas[data-circles]:not([data-circles="0"])');

    await page.screenshot({ path: path.join(SCREENSHOTS, 'viewer-filament-find-all.png') });

    // A membrane asked for in empty ice: the pipeline's message in the status line, the page still working.
    await page.selectOption('#structure', 'membrane');
    const ice = { x: 20, y: 20, z: WALL.z };
    const iceAt = await page.evaluate((v) => (globalThis as unknown as PageGlobal).cryosam.clientPoint('z', v), ice);
    await page.mouse.click(iceAt.x, iceAt.y);
    await page.click('#segment');
    await page.waitForSelector('#status.error', { timeout: 60_000 });
    assert.match((await page.textContent('#status'))!, /^no membrane found at x=20, y=20, z=23/);
    assert.equal(await page.isEnabled('#segment'), true);
    assert.deepEqual(pageErrors, []);
  });
});
