/**
 * The viewer page: three linked slice views, prompts, Segment / Find all with server-side
 * progress, review of picks and export. State lives in one object; every change re-renders.
 */
import type {
  ExportMaskBody,
  ExportPicksBody,
  ExportResponse,
  InfoResponse,
  JobStatus,
  KeepResponse,
  PickJobResult,
  SegmentJobResult,
  StructureChoice,
  ViewAxis,
  VoxelXYZ,
} from '../protocol.js';
import { ApiError, downloadUrl, getJson, postJson, waitForJob } from './api.js';
import { equivalentRadius, sectionRadius, toPlane } from './geometry.js';
import { SliceView } from './slice-view.js';
import {
  initialState,
  keptInstances,
  keptKey,
  newId,
  pickRadius,
  typicalRadius,
  visiblePicks,
  type AppState,
  type ReviewPick,
} from './state.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

let state: AppState;
const views = new Map<ViewAxis, SliceView>();
/** The view keyboard stepping applies to: the one last under the mouse. */
let activeAxis: ViewAxis = 'z';

function render(): void {
  for (const v of views.values()) v.update();
  renderPrompts();
  renderPicks();
  $('mode-prompt').classList.toggle('active', state.mode === 'prompt');
  $('mode-pick').classList.toggle('active', state.mode === 'pick');
  void syncKept();
}

let syncingKept = false;

/**
 * Tells the server which Find-all particles the user keeps (threshold, deletions), so the mask
 * overlay shows those only; then refetches the overlays. One call at a time, always with the
 * latest set, so a dragged slider sends few calls and they cannot arrive out of order.
 */
async function syncKept(): Promise<void> {
  if (syncingKept || state.serverKept === undefined) return;
  syncingKept = true;
  try {
    for (;;) {
      const instances = keptInstances(state);
      const key = keptKey(instances);
      if (key === state.serverKept) break;
      await postJson<KeepResponse>('/api/mask/keep', { instances });
      state.serverKept = key;
      state.overlayVersion++;
      for (const v of views.values()) v.update();
    }
  } catch (err) {
    toast(`Cannot update the mask: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    syncingKept = false;
  }
}

function setCursor(p: VoxelXYZ): void {
  const [nz, ny, nx] = state.info.shape;
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, Math.round(v)));
  state.cursor = { x: clamp(p.x, nx), y: clamp(p.y, ny), z: clamp(p.z, nz) };
  render();
}

function toast(message: string): void {
  const el = $('toast');
  el.textContent = message;
  el.hidden = false;
  clearTimeout(Number(el.dataset.timer));
  el.dataset.timer = String(setTimeout(() => (el.hidden = true), 5000));
}

const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3));
const xyz = (p: VoxelXYZ) => `${Math.round(p.x)}, ${Math.round(p.y)}, ${Math.round(p.z)}`;

function listButton(label: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'icon';
  b.textContent = label;
  b.title = title;
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    onClick();
  });
  return b;
}

function renderPrompts(): void {
  const list = $('prompt-list');
  list.replaceChildren(
    ...state.prompts.map((p) => {
      const li = document.createElement('li');
      li.className = p.positive ? 'positive' : 'negative';
      const text = document.createElement('span');
      text.textContent = `${p.positive ? '+' : '−'}  (${xyz(p)})`;
      li.append(text, listButton('✕', 'remove prompt', () => {
        state.prompts = state.prompts.filter((q) => q.id !== p.id);
        render();
      }));
      li.addEventListener('click', () => setCursor(p));
      return li;
    }),
  );
  if (state.prompts.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = 'Click a particle to add a prompt';
    list.append(li);
  }
  ($('segment') as HTMLButtonElement).disabled = !state.prompts.some((p) => p.positive);
  ($('find-all') as HTMLButtonElement).disabled = !state.prompts.some((p) => p.positive);
}

function renderPicks(): void {
  const shown = visiblePicks(state);
  $('pick-count').textContent = String(shown.length);
  const list = $('pick-list');
  list.replaceChildren(
    ...shown.map((p, i) => {
      const li = document.createElement('li');
      li.className = 'pick-row' + (p.id === state.selectedPick ? ' selected' : '') + (p.manual ? ' manual' : '');
      li.dataset.id = String(p.id);
      const rank = document.createElement('span');
      rank.className = 'rank';
      rank.textContent = String(i + 1);
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = p.manual ? 'manual' : p.score !== undefined ? p.score.toFixed(3) : '—';
      const pos = document.createElement('span');
      pos.className = 'pos';
      pos.textContent = xyz(p);
      li.append(rank, score, pos, listButton('✕', 'delete pick', () => deletePick(p.id)));
      li.addEventListener('click', () => jumpTo(p));
      return li;
    }),
  );
  const selected = list.querySelector('.selected');
  selected?.scrollIntoView({ block: 'nearest' });
}

function configureThreshold(): void {
  const scores = state.picks.filter((p) => !p.manual && p.score !== undefined).map((p) => p.score!);
  const slider = $('threshold') as HTMLInputElement;
  slider.disabled = scores.length === 0;
  const lo = scores.length ? Math.min(...scores) : 0;
  const hi = scores.length ? Math.max(...scores) : 1;
  slider.min = String(lo);
  slider.max = String(hi);
  slider.step = String(Math.max(1e-6, (hi - lo) / 500));
  slider.value = String(lo);
  state.threshold = Number.NEGATIVE_INFINITY;
  $('threshold-value').textContent = scores.length ? lo.toFixed(3) : '—';
}

function jumpTo(p: ReviewPick): void {
  state.selectedPick = p.id;
  for (const v of views.values()) v.centreOn(p);
  setCursor(p);
}

function deletePick(id: number): void {
  state.picks = state.picks.filter((p) => p.id !== id);
  if (state.selectedPick === id) state.selectedPick = undefined;
  render();
}

function addManualPick(v: VoxelXYZ): void {
  const r = typicalRadius(state);
  const pick: ReviewPick = { ...v, id: newId(), manual: true, voxels: Math.round((4 / 3) * Math.PI * r ** 3) };
  state.picks.push(pick);
  state.selectedPick = pick.id;
  render();
}

/** Right-click: remove the nearest prompt near the point, else the pick whose circle holds it. */
function removeAt(view: SliceView, v: VoxelXYZ, tolerance: number): void {
  const at = toPlane(view.axis, v);
  const dist = (p: VoxelXYZ) => {
    const q = toPlane(view.axis, p);
    return Math.hypot(q.col - at.col, q.row - at.row);
  };
  const prompt = state.prompts
    .filter((p) => Math.abs(toPlane(view.axis, p).depth - at.depth) <= 3 && dist(p) <= Math.max(tolerance, 2))
    .sort((a, b) => dist(a) - dist(b))[0];
  if (prompt) {
    state.prompts = state.prompts.filter((p) => p !== prompt);
    render();
    return;
  }
  const fallback = typicalRadius(state);
  const pick = visiblePicks(state)
    .filter((p) => dist(p) <= Math.max(tolerance, sectionRadius(pickRadius(p, fallback), toPlane(view.axis, p).depth - at.depth)))
    .sort((a, b) => dist(a) - dist(b))[0];
  if (pick) deletePick(pick.id);
}

function showJob(s: JobStatus): void {
  const box = $('job');
  box.hidden = false;
  const bar = $('job-progress') as HTMLProgressElement;
  bar.max = Math.max(1, s.total);
  bar.value = s.done;
  $('job-text').textContent = s.state === 'running' ? `${s.stage} ${s.done}/${s.total}` : s.state;
}

/** Sets the status line under the buttons; `error` shows it as a failure. */
function setStatus(text: string, error = false): void {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

/**
 * Runs one server job with the buttons locked and the progress bar fed by polling. A failed job's
 * message (e.g. "no membrane found at …") stays in the status line, not only in a passing toast.
 */
async function runJob(path: string, body: unknown): Promise<JobStatus['result']> {
  const buttons = ['segment', 'find-all'].map((id) => $(id) as HTMLButtonElement);
  buttons.forEach((b) => (b.disabled = true));
  document.body.classList.add('busy');
  try {
    const started = await postJson<JobStatus>(path, body);
    const done = await waitForJob(started, showJob);
    return done.result;
  } catch (err) {
    setStatus(err instanceof Error ? err.message : String(err), true);
    throw err;
  } finally {
    document.body.classList.remove('busy');
    $('job').hidden = true;
    render();
  }
}

/** The structure select: what Segment segments and Find all looks for (see PickRequestBody.structure). */
const structureChoice = (): StructureChoice => ($('structure') as HTMLSelectElement).value as StructureChoice;

async function segment(): Promise<void> {
  const positives = state.prompts.filter((p) => p.positive);
  const { x, y, z } = positives[positives.length - 1];
  const negatives = state.prompts.filter((p) => !p.positive).map(({ x, y, z }) => ({ x, y, z }));
  const result = (await runJob('/api/segment', { prompt: { x, y, z }, negatives, structure: structureChoice() })) as SegmentJobResult;
  state.hasOverlay = true;
  state.showMask = true;
  ($('show-mask') as HTMLInputElement).checked = true;
  state.overlayVersion++;
  state.segmentedRadius = segmentedRadius(result);
  state.segmentedAxis = result.filament?.axis;
  setStatus(segmentText(result));
  render();
}

/** Radius (voxels) for hand-added picks: a filament's tube or a membrane's half thickness, not its whole mask. */
function segmentedRadius(r: SegmentJobResult): number {
  const nmToVoxels = 10 / state.info.voxelSizeA;
  if (r.filament) return (r.filament.outerDiameterNm / 2) * nmToVoxels;
  if (r.membrane) return (r.membrane.thicknessNm / 2) * nmToVoxels;
  return equivalentRadius(r.voxels);
}

/** One line saying what Segment found, in the field's units (as the CLI's segment prints it). */
function segmentText(r: SegmentJobResult): string {
  const how = r.decidedBy === 'auto' ? '' : ' (as asked)';
  if (r.filament) {
    const f = r.filament;
    const lumen = f.innerDiameterNm > 0 ? `hollow (lumen ${f.innerDiameterNm.toFixed(1)} nm)` : 'solid';
    return `filament${how}: ${f.lengthNm.toFixed(0)} nm long, ${f.outerDiameterNm.toFixed(1)} nm across, ${lumen}; ${r.voxels} voxels`;
  }
  if (r.membrane) return `membrane${how}: ${r.membrane.areaNm2.toFixed(0)} nm², ${r.membrane.thicknessNm.toFixed(1)} nm thick; ${r.voxels} voxels`;
  return `particle${how}: ${r.voxels} voxels (radius ≈ ${equivalentRadius(r.voxels).toFixed(1)} voxels)`;
}

/** "1 filament", "4 membranes", "12 particles". */
const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

async function findAll(): Promise<void> {
  const prompts = state.prompts.filter((p) => p.positive).map(({ x, y, z }) => ({ x, y, z }));
  const negatives = state.prompts.filter((p) => !p.positive).map(({ x, y, z }) => ({ x, y, z }));
  const k = ($('top-k') as HTMLInputElement).value.trim();
  const topK = k === '' || k === 'auto' ? 'auto' : Number(k);
  if (topK !== 'auto' && !(Number.isInteger(topK) && topK > 0)) throw new Error('Top K must be "auto" or a positive whole number');
  // No mask syncing while Find all replaces the server's particles (ids of the old picks would be refused).
  const kept = state.serverKept;
  state.serverKept = undefined;
  let result: PickJobResult;
  try {
    result = (await runJob('/api/pick', { prompts, negatives, topK, structure: structureChoice() })) as PickJobResult;
  } catch (err) {
    state.serverKept = kept;
    throw err;
  }
  state.picks = [...state.picks.filter((p) => p.manual), ...result.picks.map((p) => ({ ...p, id: newId(), manual: false }))];
  state.selectedPick = undefined;
  // The server's overlay no longer holds the segmented structure, so neither do the views.
  state.segmentedAxis = undefined;
  state.hasOverlay = true;
  state.overlayVersion++;
  configureThreshold();
  // The server's mask now holds every particle found, as the list shows them all.
  state.serverKept = keptKey(keptInstances(state));
  const found = result.structures
    ? `${count(result.structures.count, result.structures.kind)}${result.structures.kind === 'filament' ? ` (${count(result.picks.length, 'axis point')})` : ''}`
    : count(result.picks.length, 'particle');
  setStatus(`Found ${found} in ${result.seconds.toFixed(1)} s`);
  render();
}

async function exportPicks(): Promise<void> {
  const name = ($('export-name') as HTMLInputElement).value.trim();
  const format = ($('export-format') as HTMLSelectElement).value;
  const picks = visiblePicks(state).map(({ x, y, z, score }) => ({ x, y, z, ...(score !== undefined ? { score } : {}) }));
  const res = await postExport<ExportPicksBody>('/api/export/picks', { name, format, picks });
  if (res) showExport(res, `${res.count} picks`);
}

async function exportMask(): Promise<void> {
  const base = ($('export-name') as HTMLInputElement).value.trim().replace(/\.[^.]*$/, '');
  // After a Find all, exactly the particles of the picks kept (threshold, deletions).
  const instances = state.serverKept !== undefined ? { instances: keptInstances(state) } : {};
  const res = await postExport<ExportMaskBody>('/api/export/mask', { name: `${base || 'mask'}_mask.mrc`, ...instances });
  if (res) showExport(res, 'mask');
}

/** Sends an export; when its file exists, asks before replacing it. Undefined when the user declines. */
async function postExport<B extends { name: string; overwrite?: boolean }>(path: string, body: B): Promise<ExportResponse | undefined> {
  try {
    return await postJson<ExportResponse>(path, body);
  } catch (err) {
    if (!(err instanceof ApiError && err.exists)) throw err;
    if (!confirm(`${body.name} already exists in ${state.info.outDir}. Replace it?`)) {
      toast(`Not exported: ${body.name} already exists`);
      return undefined;
    }
    return postJson<ExportResponse>(path, { ...body, overwrite: true });
  }
}

function showExport(res: ExportResponse, what: string): void {
  const out = $('export-result');
  const link = document.createElement('a');
  link.href = downloadUrl(res.download);
  link.textContent = 'download';
  link.setAttribute('download', '');
  const path = document.createElement('code');
  path.textContent = res.path;
  path.id = 'export-path';
  out.replaceChildren(`Wrote ${what} to `, path, ' · ', link);
}

/** Runs an action from a button, showing failures instead of losing them. */
function guarded(action: () => Promise<void> | void): () => void {
  return () => {
    Promise.resolve()
      .then(action)
      .catch((err: unknown) => toast(err instanceof Error ? err.message : String(err)));
  };
}

function bindDisplay(): void {
  const { min, max, low, high } = state.info.autoContrast;
  const step = String((max - min) / 1000 || 1e-3);
  const lowEl = $('win-low') as HTMLInputElement;
  const highEl = $('win-high') as HTMLInputElement;
  for (const el of [lowEl, highEl]) Object.assign(el, { min: String(min), max: String(max), step });
  const show = () => {
    lowEl.value = String(state.window.low);
    highEl.value = String(state.window.high);
    $('win-low-value').textContent = fmt(state.window.low);
    $('win-high-value').textContent = fmt(state.window.high);
    render();
  };
  lowEl.addEventListener('input', () => {
    state.window.low = Math.min(Number(lowEl.value), state.window.high - Number(step));
    show();
  });
  highEl.addEventListener('input', () => {
    state.window.high = Math.max(Number(highEl.value), state.window.low + Number(step));
    show();
  });
  $('auto-contrast').addEventListener('click', () => {
    state.window = { low, high };
    show();
  });
  $('sigma').addEventListener('change', () => {
    state.sigma = Number(($('sigma') as HTMLSelectElement).value);
    render();
  });
  $('show-mask').addEventListener('change', () => {
    state.showMask = ($('show-mask') as HTMLInputElement).checked;
    render();
  });
  show();
}

function setMode(mode: AppState['mode']): void {
  state.mode = mode;
  render();
}

function bindControls(): void {
  $('mode-prompt').addEventListener('click', () => setMode('prompt'));
  $('mode-pick').addEventListener('click', () => setMode('pick'));
  $('segment').addEventListener('click', guarded(segment));
  $('find-all').addEventListener('click', guarded(findAll));
  $('export-picks').addEventListener('click', guarded(exportPicks));
  $('export-mask').addEventListener('click', guarded(exportMask));
  const threshold = $('threshold') as HTMLInputElement;
  threshold.addEventListener('input', () => {
    state.threshold = Number(threshold.value);
    $('threshold-value').textContent = state.threshold.toFixed(3);
    render();
  });
  const format = $('export-format') as HTMLSelectElement;
  format.replaceChildren(...state.info.formats.map((f) => new Option(f, f)));
  if (state.info.formats.includes('relion4')) format.value = 'relion4';
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    const view = views.get(activeAxis)!;
    const steps: Record<string, number> = { ArrowUp: 1, ArrowRight: 1, ArrowDown: -1, ArrowLeft: -1, PageUp: 10, PageDown: -10 };
    if (e.key in steps) {
      e.preventDefault();
      view.step(steps[e.key]);
    } else if (e.key === 'm' || e.key === 'M') setMode(state.mode === 'pick' ? 'prompt' : 'pick');
    else if ((e.key === 'Delete' || e.key === 'Backspace') && state.selectedPick !== undefined) deletePick(state.selectedPick);
  });
}

function createViews(): void {
  const parent = $('views');
  for (const axis of ['z', 'x', 'y'] as const) {
    const view = new SliceView(axis, parent, () => state, {
      click: (_view, v, shift) => {
        if (state.mode === 'pick') addManualPick(v);
        else state.prompts.push({ ...v, id: newId(), positive: !shift });
        setCursor(v);
      },
      rightClick: (view, v, tolerance) => removeAt(view, v, tolerance),
      hover: (view, v, value) => {
        activeAxis = view.axis;
        const readout = $('hover-readout');
        readout.textContent = v
          ? `x ${v.x}  y ${v.y}  z ${v.z}    value ${value === undefined ? '…' : fmt(value)}${state.sigma > 0 ? ' (smoothed)' : ''}`
          : '';
      },
      slice: (view, index) => {
        activeAxis = view.axis;
        setCursor({ ...state.cursor, [view.axis]: index });
      },
      error: toast,
    });
    views.set(axis, view);
  }
}

async function main(): Promise<void> {
  const info = await getJson<InfoResponse>('/api/info');
  state = initialState(info);
  document.title = `${info.name} · cryosam view`;
  $('tomo-name').textContent = info.name;
  const [nz, ny, nx] = info.shape;
  $('tomo-shape').textContent = `${nx} × ${ny} × ${nz} voxels · ${info.voxelSizeA.toFixed(2)} Å/voxel · output: ${info.outDir}`;
  createViews();
  bindDisplay();
  bindControls();
  configureThreshold();
  render();
  // Exposed for scripting and end-to-end tests: read-only state and voxel → page coordinates.
  Object.assign(window, {
    cryosam: {
      state: () => state,
      shownPicks: () => visiblePicks(state),
      clientPoint: (axis: ViewAxis, p: VoxelXYZ) => views.get(axis)!.clientPoint(p),
    },
  });
  document.body.dataset.ready = 'true';
}

main().catch((err: unknown) => toast(`Cannot start the viewer: ${err instanceof Error ? err.message : String(err)}`));
