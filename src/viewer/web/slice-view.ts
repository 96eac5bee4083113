/**
 * One of the three orthogonal views: a canvas showing the slice through the crosshair, with the
 * masks as translucent overlays, circles for picks the slice cuts, prompt markers, zoom (wheel),
 * pan (drag) and a slice slider. Slices are fetched from the server at the resolution the canvas
 * shows, and the last one stays on screen until the next arrives, so stepping stays smooth.
 */
import type { ViewAxis, VoxelXYZ } from '../protocol.js';
import { fetchOverlay, fetchSlice, type OverlayImage, type SliceImage } from './api.js';
import { fromPlane, planeSize, sectionRadius, toPlane } from './geometry.js';
import { pickRadius, typicalRadius, visiblePicks, type AppState } from './state.js';

export interface ViewEvents {
  click(view: SliceView, voxel: VoxelXYZ, shift: boolean): void;
  /** Right click; `tolerance` is a few screen pixels expressed in voxels. */
  rightClick(view: SliceView, voxel: VoxelXYZ, tolerance: number): void;
  hover(view: SliceView, voxel: VoxelXYZ | undefined, value: number | undefined): void;
  slice(view: SliceView, index: number): void;
  error(message: string): void;
}

const TITLES: Record<ViewAxis, string> = { z: 'XY', y: 'XZ', x: 'YZ' };
/** Colour of each axis' slice plane: the view's frame and the crosshair line showing that plane. */
export const AXIS_COLOURS: Record<ViewAxis, string> = { z: '#4c9bff', y: '#5fd38d', x: '#ff6b6b' };
/** Which voxel axis runs along a view's columns and rows. */
const COL_AXIS: Record<ViewAxis, ViewAxis> = { z: 'x', y: 'x', x: 'y' };
const ROW_AXIS: Record<ViewAxis, ViewAxis> = { z: 'y', y: 'z', x: 'z' };
/** Mouse travel (CSS px) below which a press counts as a click, not a drag. */
const CLICK_SLOP = 4;
const MAX_DOWNSAMPLE = 64;

export class SliceView {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly slider: HTMLInputElement;
  private readonly label: HTMLElement;
  /** Device pixels per voxel, and the image point (in voxels) at the canvas centre. */
  private zoom = 1;
  private centre = { col: 0, row: 0 };
  private fitted = false;
  private image: SliceImage | undefined;
  private imageKey = '';
  private wantedImageKey = '';
  private imageAbort: AbortController | undefined;
  private readonly imageCanvas = document.createElement('canvas');
  private paintedWindow = '';
  private overlay: OverlayImage | undefined;
  private overlayKey = '';
  private wantedOverlayKey = '';
  private overlayAbort: AbortController | undefined;
  private readonly overlayCanvas = document.createElement('canvas');
  private drawQueued = false;
  private press: { x: number; y: number; moved: boolean; button: number } | undefined;
  private lastPointer: { x: number; y: number } | undefined;

  constructor(
    readonly axis: ViewAxis,
    parent: HTMLElement,
    private readonly state: () => AppState,
    private readonly events: ViewEvents,
  ) {
    const panel = document.createElement('section');
    panel.className = 'view';
    panel.dataset.axis = axis;
    panel.style.setProperty('--axis-colour', AXIS_COLOURS[axis]);
    const head = document.createElement('header');
    const title = document.createElement('span');
    title.className = 'view-title';
    title.textContent = TITLES[axis];
    this.label = document.createElement('span');
    this.label.className = 'view-index';
    head.append(title, this.label);
    const stage = document.createElement('div');
    stage.className = 'view-stage';
    this.canvas = document.createElement('canvas');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('aria-label', `${TITLES[axis]} slice`);
    stage.append(this.canvas);
    this.slider = document.createElement('input');
    this.slider.type = 'range';
    this.slider.min = '0';
    this.slider.max = String(this.length - 1);
    this.slider.className = 'view-slider';
    this.slider.setAttribute('aria-label', `${TITLES[axis]} slice index`);
    this.slider.addEventListener('input', () => this.events.slice(this, Number(this.slider.value)));
    panel.append(head, stage, this.slider);
    parent.append(panel);
    this.ctx = this.canvas.getContext('2d')!;
    new ResizeObserver(() => this.resize(stage)).observe(stage);
    this.bindPointer();
  }

  /** Number of slices along this view's axis. */
  get length(): number {
    return planeSize(this.axis, this.state().info.shape).depth;
  }

  /** The slice shown: the crosshair's coordinate along this view's axis. */
  get index(): number {
    return toPlane(this.axis, this.state().cursor).depth;
  }

  /** Re-syncs with the state: fetches what changed and redraws. */
  update(): void {
    const s = this.state();
    this.slider.value = String(this.index);
    this.label.textContent = `${this.axis} = ${this.index} / ${this.length - 1}`;
    if (!this.fitted) return;
    const ds = this.downsample();
    const imageKey = `${this.index}/${ds}/${s.sigma}`;
    if (imageKey !== this.imageKey && imageKey !== this.wantedImageKey) this.loadImage(imageKey, ds, s.sigma);
    const overlayKey = s.hasOverlay && s.showMask ? `${this.index}/${ds}/${s.overlayVersion}` : '';
    if (overlayKey === '') {
      this.overlay = undefined;
      this.overlayKey = '';
    } else if (overlayKey !== this.overlayKey && overlayKey !== this.wantedOverlayKey) this.loadOverlay(overlayKey, ds);
    this.requestDraw();
  }

  /** Page coordinates (CSS px) of a voxel's centre on this view, for tests and tooltips. */
  clientPoint(p: VoxelXYZ): { x: number; y: number } {
    const q = toPlane(this.axis, p);
    const rect = this.canvas.getBoundingClientRect();
    const dpr = this.canvas.width / Math.max(1, rect.width);
    const s = this.toScreen(q.col + 0.5, q.row + 0.5);
    return { x: rect.left + s.x / dpr, y: rect.top + s.y / dpr };
  }

  /** Moves the slice by `delta`, clamped to the tomogram. */
  step(delta: number): void {
    const next = Math.min(this.length - 1, Math.max(0, this.index + delta));
    if (next !== this.index) this.events.slice(this, next);
  }

  /** Pans so that `p` is on screen (leaves the view alone when it already is). */
  centreOn(p: VoxelXYZ): void {
    const q = toPlane(this.axis, p);
    const s = this.toScreen(q.col + 0.5, q.row + 0.5);
    const margin = 0.1;
    const inside = (v: number, n: number) => v > n * margin && v < n * (1 - margin);
    if (inside(s.x, this.canvas.width) && inside(s.y, this.canvas.height)) return;
    this.centre = { col: q.col + 0.5, row: q.row + 0.5 };
  }

  fit(): void {
    const { width, height } = planeSize(this.axis, this.state().info.shape);
    if (this.canvas.width === 0 || this.canvas.height === 0) return;
    this.zoom = Math.min(this.canvas.width / width, this.canvas.height / height) * 0.96;
    this.centre = { col: width / 2, row: height / 2 };
    this.fitted = true;
    this.update();
  }

  private resize(stage: HTMLElement): void {
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(stage.clientWidth * dpr));
    this.canvas.height = Math.max(1, Math.round(stage.clientHeight * dpr));
    if (!this.fitted) this.fit();
    else this.update();
  }

  /** Block size the server averages over: about one voxel per device pixel, in powers of two. */
  private downsample(): number {
    const voxelsPerPixel = 1 / this.zoom;
    if (voxelsPerPixel < 2) return 1;
    return Math.min(MAX_DOWNSAMPLE, 2 ** Math.floor(Math.log2(voxelsPerPixel)));
  }

  private loadImage(key: string, ds: number, sigma: number): void {
    this.imageAbort?.abort();
    const abort = new AbortController();
    this.imageAbort = abort;
    this.wantedImageKey = key;
    fetchSlice(this.axis, this.index, ds, sigma, abort.signal).then(
      (image) => {
        this.image = image;
        this.imageKey = key;
        this.wantedImageKey = '';
        this.paintedWindow = '';
        this.requestDraw();
      },
      (err: unknown) => this.failed(err, abort, () => (this.wantedImageKey = '')),
    );
  }

  private loadOverlay(key: string, ds: number): void {
    this.overlayAbort?.abort();
    const abort = new AbortController();
    this.overlayAbort = abort;
    this.wantedOverlayKey = key;
    fetchOverlay(this.axis, this.index, ds, abort.signal).then(
      (overlay) => {
        this.overlay = overlay;
        this.overlayKey = key;
        this.wantedOverlayKey = '';
        this.paintOverlay();
        this.requestDraw();
      },
      (err: unknown) => this.failed(err, abort, () => (this.wantedOverlayKey = '')),
    );
  }

  private failed(err: unknown, abort: AbortController, reset: () => void): void {
    if (abort.signal.aborted) return;
    reset();
    this.events.error(err instanceof Error ? err.message : String(err));
  }

  /** Maps the float slice to grey levels through the display window (client side, so window changes are instant). */
  private paintImage(): void {
    const image = this.image;
    if (!image) return;
    const { low, high } = this.state().window;
    const key = `${low}/${high}`;
    if (key === this.paintedWindow) return;
    this.paintedWindow = key;
    this.imageCanvas.width = image.width;
    this.imageCanvas.height = image.height;
    const ictx = this.imageCanvas.getContext('2d')!;
    const pixels = ictx.createImageData(image.width, image.height);
    const scale = 255 / Math.max(1e-12, high - low);
    for (let i = 0; i < image.data.length; i++) {
      const g = Math.min(255, Math.max(0, (image.data[i] - low) * scale));
      pixels.data[4 * i] = g;
      pixels.data[4 * i + 1] = g;
      pixels.data[4 * i + 2] = g;
      pixels.data[4 * i + 3] = 255;
    }
    ictx.putImageData(pixels, 0, 0);
  }

  private paintOverlay(): void {
    const o = this.overlay;
    if (!o) return;
    this.overlayCanvas.width = o.width;
    this.overlayCanvas.height = o.height;
    const octx = this.overlayCanvas.getContext('2d')!;
    const pixels = octx.createImageData(o.width, o.height);
    for (let i = 0; i < o.bits.length; i++) {
      const b = o.bits[i];
      if (!b) continue;
      // The segmented particle (bit 2, amber) wins over the semantic mask (bit 1, cyan).
      const [r, g, bl, a] = b & 2 ? [255, 170, 40, 150] : [40, 200, 255, 95];
      pixels.data.set([r, g, bl, a], 4 * i);
    }
    octx.putImageData(pixels, 0, 0);
  }

  private requestDraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      this.draw();
    });
  }

  private toScreen(col: number, row: number): { x: number; y: number } {
    return { x: (col - this.centre.col) * this.zoom + this.canvas.width / 2, y: (row - this.centre.row) * this.zoom + this.canvas.height / 2 };
  }

  private toImage(x: number, y: number): { col: number; row: number } {
    return { col: (x - this.canvas.width / 2) / this.zoom + this.centre.col, row: (y - this.canvas.height / 2) / this.zoom + this.centre.row };
  }

  private draw(): void {
    const s = this.state();
    const ctx = this.ctx;
    const { width, height } = planeSize(this.axis, s.info.shape);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#0b0d12';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    const origin = this.toScreen(0, 0);
    ctx.setTransform(this.zoom, 0, 0, this.zoom, origin.x, origin.y);
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, width, height);
    ctx.clip();
    if (this.image) {
      this.paintImage();
      const ds = this.image.downsample;
      ctx.imageSmoothingEnabled = this.zoom * ds < 1;
      ctx.drawImage(this.imageCanvas, 0, 0, this.image.width * ds, this.image.height * ds);
    }
    if (this.overlay) {
      ctx.imageSmoothingEnabled = false;
      const ds = this.overlay.downsample;
      ctx.drawImage(this.overlayCanvas, 0, 0, this.overlay.width * ds, this.overlay.height * ds);
    }
    ctx.restore();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    const dpr = window.devicePixelRatio || 1;
    this.drawCrosshair(s, width, height, dpr);
    this.drawPicks(s, dpr);
    this.drawAxis(s, dpr);
    this.drawPrompts(s, dpr);
  }

  private drawCrosshair(s: AppState, width: number, height: number, dpr: number): void {
    const ctx = this.ctx;
    const c = toPlane(this.axis, s.cursor);
    const a = this.toScreen(0, 0);
    const b = this.toScreen(width, height);
    const p = this.toScreen(c.col + 0.5, c.row + 0.5);
    ctx.lineWidth = dpr;
    ctx.setLineDash([6 * dpr, 4 * dpr]);
    ctx.globalAlpha = 0.9;
    ctx.strokeStyle = AXIS_COLOURS[COL_AXIS[this.axis]];
    ctx.beginPath();
    ctx.moveTo(p.x, a.y);
    ctx.lineTo(p.x, b.y);
    ctx.stroke();
    ctx.strokeStyle = AXIS_COLOURS[ROW_AXIS[this.axis]];
    ctx.beginPath();
    ctx.moveTo(a.x, p.y);
    ctx.lineTo(b.x, p.y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
  }

  private drawPicks(s: AppState, dpr: number): void {
    const ctx = this.ctx;
    const fallback = typicalRadius(s);
    let circles = 0;
    for (const pick of visiblePicks(s)) {
      const q = toPlane(this.axis, pick);
      const r = sectionRadius(pickRadius(pick, fallback), q.depth - this.index);
      if (r <= 0) continue;
      circles++;
      const p = this.toScreen(q.col + 0.5, q.row + 0.5);
      const selected = pick.id === s.selectedPick;
      ctx.lineWidth = (selected ? 2.5 : 1.5) * dpr;
      ctx.strokeStyle = selected ? '#ffffff' : pick.manual ? '#d38cff' : '#ffd84d';
      ctx.beginPath();
      ctx.arc(p.x, p.y, Math.max(3 * dpr, r * this.zoom), 0, 2 * Math.PI);
      ctx.stroke();
    }
    this.canvas.dataset.circles = String(circles);
  }

  /**
   * The segmented filament's axis points within a voxel of this slice, as small dots: where the
   * tube's centre runs, which the filled mask alone does not show on a cut along it.
   */
  private drawAxis(s: AppState, dpr: number): void {
    const ctx = this.ctx;
    let dots = 0;
    ctx.fillStyle = '#ff4fd8';
    for (const point of s.segmentedAxis ?? []) {
      const q = toPlane(this.axis, point);
      if (Math.abs(q.depth - this.index) > 1) continue;
      dots++;
      const p = this.toScreen(q.col + 0.5, q.row + 0.5);
      ctx.beginPath();
      ctx.arc(p.x, p.y, 2 * dpr, 0, 2 * Math.PI);
      ctx.fill();
    }
    this.canvas.dataset.axisDots = String(dots);
  }

  private drawPrompts(s: AppState, dpr: number): void {
    const ctx = this.ctx;
    for (const prompt of s.prompts) {
      const q = toPlane(this.axis, prompt);
      const d = Math.abs(q.depth - this.index);
      // Prompts a few slices away are shown faintly, so they stay findable while stepping.
      if (d > 3) continue;
      const p = this.toScreen(q.col + 0.5, q.row + 0.5);
      ctx.globalAlpha = d === 0 ? 1 : 0.35;
      ctx.fillStyle = prompt.positive ? '#3ddc84' : '#ff5252';
      ctx.strokeStyle = '#0b0d12';
      ctx.lineWidth = 1.5 * dpr;
      ctx.beginPath();
      ctx.arc(p.x, p.y, (d === 0 ? 5 : 3.5) * dpr, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
  }

  private voxelAt(x: number, y: number): VoxelXYZ | undefined {
    const { width, height } = planeSize(this.axis, this.state().info.shape);
    const q = this.toImage(x, y);
    const col = Math.floor(q.col);
    const row = Math.floor(q.row);
    if (col < 0 || row < 0 || col >= width || row >= height) return undefined;
    return fromPlane(this.axis, { col, row, depth: this.index });
  }

  private valueAt(v: VoxelXYZ): number | undefined {
    const image = this.image;
    if (!image) return undefined;
    const q = toPlane(this.axis, v);
    const ds = image.downsample;
    return image.data[Math.floor(q.row / ds) * image.width + Math.floor(q.col / ds)];
  }

  private bindPointer(): void {
    const c = this.canvas;
    const devicePoint = (e: MouseEvent) => {
      const dpr = c.width / Math.max(1, c.clientWidth);
      return { x: e.offsetX * dpr, y: e.offsetY * dpr };
    };
    c.addEventListener('contextmenu', (e) => e.preventDefault());
    c.addEventListener('pointerdown', (e) => {
      c.focus();
      c.setPointerCapture(e.pointerId);
      this.press = { x: e.clientX, y: e.clientY, moved: false, button: e.button };
      this.lastPointer = { x: e.clientX, y: e.clientY };
    });
    c.addEventListener('pointermove', (e) => {
      const press = this.press;
      if (press && this.lastPointer) {
        if (Math.hypot(e.clientX - press.x, e.clientY - press.y) > CLICK_SLOP) press.moved = true;
        if (press.moved && press.button === 0) {
          const dpr = c.width / Math.max(1, c.clientWidth);
          this.centre.col -= ((e.clientX - this.lastPointer.x) * dpr) / this.zoom;
          this.centre.row -= ((e.clientY - this.lastPointer.y) * dpr) / this.zoom;
          this.requestDraw();
        }
        this.lastPointer = { x: e.clientX, y: e.clientY };
      }
      const p = devicePoint(e);
      const v = this.voxelAt(p.x, p.y);
      this.events.hover(this, v, v ? this.valueAt(v) : undefined);
    });
    c.addEventListener('pointerleave', () => this.events.hover(this, undefined, undefined));
    c.addEventListener('pointerup', (e) => {
      const press = this.press;
      this.press = undefined;
      if (!press || press.moved) return;
      const p = devicePoint(e);
      const v = this.voxelAt(p.x, p.y);
      if (!v) return;
      if (press.button === 0) this.events.click(this, v, e.shiftKey);
      else if (press.button === 2) this.events.rightClick(this, v, (6 * (c.width / Math.max(1, c.clientWidth))) / this.zoom);
    });
    c.addEventListener('dblclick', () => this.fit());
    c.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const p = devicePoint(e);
        const before = this.toImage(p.x, p.y);
        this.zoom = Math.min(64, Math.max(0.01, this.zoom * Math.exp(-e.deltaY * 0.0015)));
        // Keep the voxel under the mouse where it is.
        this.centre.col = before.col - (p.x - this.canvas.width / 2) / this.zoom;
        this.centre.row = before.row - (p.y - this.canvas.height / 2) / this.zoom;
        this.update();
      },
      { passive: false },
    );
  }
}
