/**
 * samlite's annotation page: click an object and see its mask, refine it click by click,
 * accept it with a category, save into the dataset files `--format` asked for. The model
 * runs on the server (its decoder on the cached embedding): see docs for the measurement
 * that chose it.
 */
import { ApiError, api, type ImageRef, type MaskAnswer, type ModelLimits, type PromptJson, type SessionObject, type StepJson } from './api.js';
import { PALETTE, decodeMask, paintMask, type PageMask } from './masks.js';

/** An accepted object: its category, its prompt as saved, and its mask as drawn. */
interface Accepted {
  category: string;
  prompt: PromptJson;
  mask?: PageMask;
  painted?: HTMLCanvasElement;
  /** Top-left of the mask, in mask pixels: where its label goes. */
  corner?: [number, number];
}

/** One candidate of the current object: decoded and painted only once it is shown. */
interface Candidate {
  answer: MaskAnswer;
  mask?: PageMask;
  painted?: HTMLCanvasElement;
}

/** The object being clicked: its steps (one per click), undo history and latest answer. */
interface Current {
  steps: StepJson[];
  redo: StepJson[];
  masks: Candidate[];
  chosen: number;
  /** The family's pick among `masks` (mask_index). */
  best: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const stage = $<HTMLElement>('stage');
const photo = $<HTMLCanvasElement>('photo');
const overlay = $<HTMLCanvasElement>('overlay');

const state = {
  images: [] as string[],
  uploads: new Map<string, string>(),
  index: -1,
  image: undefined as HTMLImageElement | ImageBitmap | undefined,
  size: { width: 0, height: 0 },
  objects: new Map<string, Accepted[]>(),
  categories: [] as string[],
  current: undefined as Current | undefined,
  selected: -1,
  limits: undefined as ModelLimits | undefined,
  canSave: false,
  hover: undefined as { x: number; y: number; painted?: HTMLCanvasElement } | undefined,
  everything: undefined as { mask: PageMask; painted: HTMLCanvasElement; box: [number, number, number, number] }[] | undefined,
  drag: undefined as { x0: number; y0: number; x1: number; y1: number; moved: boolean; negative: boolean } | undefined,
  view: { scale: 1, ox: 0, oy: 0 },
  requestSeq: 0,
  drawnSeq: 0,
  saving: Promise.resolve() as Promise<unknown>,
};

/** Timings of hover and click answers, for `npm run bench` and the curious (window.samlite.timings). */
const timings: { kind: 'hover' | 'click'; ms: number }[] = [];
(window as unknown as { samlite: unknown }).samlite = { timings, state };

// ---------------------------------------------------------------- images and layout

const imageName = () => state.images[state.index];
const imageRef = (): ImageRef => {
  const name = imageName();
  const data = state.uploads.get(name);
  return data ? { image_data: data, image_name: name } : { image: name };
};
const objects = (): Accepted[] => {
  const name = imageName();
  let list = state.objects.get(name);
  if (!list) state.objects.set(name, (list = []));
  return list;
};

/** Fit the image in the stage, centred; canvases at device resolution. */
function layout(): void {
  const rect = stage.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  for (const c of [photo, overlay]) {
    c.width = Math.round(rect.width * dpr);
    c.height = Math.round(rect.height * dpr);
    c.style.width = `${rect.width}px`;
    c.style.height = `${rect.height}px`;
  }
  const { width, height } = state.size;
  if (!width) return;
  const margin = 16;
  const scale = Math.min((rect.width - 2 * margin) / width, (rect.height - 2 * margin) / height);
  state.view = { scale, ox: (rect.width - width * scale) / 2, oy: (rect.height - height * scale) / 2 };
  const ctx = photo.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, rect.width, rect.height);
  if (state.image) ctx.drawImage(state.image, state.view.ox, state.view.oy, width * scale, height * scale);
  draw();
}

/**
 * The long side, in device pixels, previews are rendered at: what the screen shows, at most
 * PREVIEW_MAX. The SAM decoder's cost grows with its render size: on the MobileSAM stand-in
 * a 768-pixel render costs about what a 16-pixel one does, 1024 ~15 % more and the 2 MP
 * photo's full size ~3x (bench: serve rows).
 */
const PREVIEW_MAX = 768;
function previewSide(): number {
  const dpr = window.devicePixelRatio || 1;
  const shown = Math.max(state.size.width, state.size.height) * state.view.scale * dpr;
  return Math.max(64, Math.min(PREVIEW_MAX, Math.round(shown)));
}

/**
 * Hover previews are rendered at half the click's side and drawn scaled: the mask under a
 * moving cursor is a glance, and a quarter of the pixels is a quarter of the work to
 * threshold, encode, send, decode and paint (the decoder's own cost barely changes below
 * 768 pixels). A click, accept and save get the mask at full detail.
 */
const HOVER_SCALE = 0.5;
function hoverSide(): number {
  return Math.max(64, Math.round(previewSide() * HOVER_SCALE));
}

/** A candidate ready to draw: decoded and painted on first use, with the contrast outline. */
function shown(c: Candidate): Candidate & { mask: PageMask; painted: HTMLCanvasElement } {
  c.mask ??= decodeMask(c.answer.segmentation);
  c.painted ??= paintMask(c.mask, PALETTE[0], 0.45, 'contrast');
  return c as Candidate & { mask: PageMask; painted: HTMLCanvasElement };
}

/** Page coordinates to image pixels (clamped to the image). */
function toImage(ev: MouseEvent): { x: number; y: number; inside: boolean } {
  const rect = stage.getBoundingClientRect();
  const x = (ev.clientX - rect.left - state.view.ox) / state.view.scale;
  const y = (ev.clientY - rect.top - state.view.oy) / state.view.scale;
  const inside = x >= 0 && y >= 0 && x < state.size.width && y < state.size.height;
  return { x: Math.min(state.size.width - 1, Math.max(0, Math.round(x))), y: Math.min(state.size.height - 1, Math.max(0, Math.round(y))), inside };
}

// ---------------------------------------------------------------- drawing

function draw(): void {
  const dpr = window.devicePixelRatio || 1;
  const ctx = overlay.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  const { scale, ox, oy } = state.view;
  const w = state.size.width * scale;
  const h = state.size.height * scale;
  ctx.imageSmoothingEnabled = true;
  if (state.everything) {
    for (const m of state.everything) ctx.drawImage(m.painted, ox, oy, w, h);
  } else {
    objects().forEach((o, i) => {
      if (!o.painted) return;
      ctx.globalAlpha = state.selected === i ? 1 : 0.85;
      ctx.drawImage(o.painted, ox, oy, w, h);
    });
    ctx.globalAlpha = 1;
    // Each object's category on a tag at its top-left corner, in its colour.
    ctx.font = '600 12px system-ui, sans-serif';
    objects().forEach((o, i) => {
      if (!o.mask || !o.corner) return;
      const x = ox + (o.corner[0] / o.mask.width) * w;
      const y = oy + (o.corner[1] / o.mask.height) * h;
      const [r, g, b] = PALETTE[(i + 1) % PALETTE.length];
      const label = `${i + 1} ${o.category}`;
      const tw = ctx.measureText(label).width + 10;
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(x, Math.max(0, y - 18), tw, 18);
      ctx.fillStyle = '#10131a';
      ctx.fillText(label, x + 5, Math.max(0, y - 18) + 13);
    });
  }
  const cur = state.current;
  if (cur && cur.masks.length) ctx.drawImage(shown(cur.masks[cur.chosen]).painted, ox, oy, w, h);
  else if (state.hover?.painted) ctx.drawImage(state.hover.painted, ox, oy, w, h);
  if (cur) drawPrompt(ctx, cur.steps);
  if (state.drag?.moved) {
    const d = state.drag;
    ctx.strokeStyle = '#ffd400';
    ctx.lineWidth = 2;
    ctx.setLineDash([6, 4]);
    ctx.strokeRect(ox + Math.min(d.x0, d.x1) * scale, oy + Math.min(d.y0, d.y1) * scale, Math.abs(d.x1 - d.x0) * scale, Math.abs(d.y1 - d.y0) * scale);
    ctx.setLineDash([]);
  }
}

/** Clicks as SAM's demo shows them: green discs add, red squares subtract, the box in yellow. */
function drawPrompt(ctx: CanvasRenderingContext2D, steps: StepJson[]): void {
  const { scale, ox, oy } = state.view;
  const at = (p: [number, number]) => [ox + (p[0] + 0.5) * scale, oy + (p[1] + 0.5) * scale] as const;
  const box = [...steps].reverse().find((s) => s.box)?.box;
  if (box) {
    ctx.strokeStyle = '#ffd400';
    ctx.lineWidth = 2;
    ctx.strokeRect(ox + box[0] * scale, oy + box[1] * scale, (box[2] - box[0] + 1) * scale, (box[3] - box[1] + 1) * scale);
  }
  for (const s of steps) {
    for (const p of s.points ?? []) {
      const [x, y] = at(p);
      ctx.beginPath();
      ctx.arc(x, y, 6, 0, 2 * Math.PI);
      ctx.fillStyle = '#1fcf5a';
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#fff';
      ctx.stroke();
    }
    for (const p of s.neg_points ?? []) {
      const [x, y] = at(p);
      ctx.fillStyle = '#fff';
      ctx.fillRect(x - 7, y - 7, 14, 14);
      ctx.fillStyle = '#ef3b3b';
      ctx.fillRect(x - 5, y - 5, 10, 10);
    }
  }
}

/** After an answer is on screen: tell tests and the bench (data attributes, an event, timings). */
function drawn(kind: 'hover' | 'click', started: number, area: number): void {
  draw();
  const ms = performance.now() - started;
  timings.push({ kind, ms });
  state.drawnSeq++;
  document.body.dataset.drawn = String(state.drawnSeq);
  document.body.dataset.lastKind = kind;
  document.body.dataset.maskArea = String(area);
  document.dispatchEvent(new CustomEvent('samlite:drawn', { detail: { kind, ms, area } }));
  status(`${kind === 'hover' ? 'preview' : 'mask'} in ${ms.toFixed(0)} ms`);
}

// ---------------------------------------------------------------- talking to the model

let toastTimer = 0;
function toast(message: string): void {
  const el = $('toast');
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => el.classList.remove('show'), 2600);
}
function status(message: string): void {
  $('status').textContent = message;
}

/** The current object's prompt as the prompts file writes it: one step flat, several as steps. */
function promptOf(steps: StepJson[]): PromptJson {
  return steps.length === 1 ? { ...steps[0] } : { steps: steps.map((s) => ({ ...s })) };
}

/** Ask for the current object's masks; only the newest request's answer is drawn. */
async function refresh(started = performance.now()): Promise<void> {
  const cur = state.current;
  if (!cur) return;
  if (cur.steps.length === 0) {
    state.current = undefined;
    renderCurrent();
    draw();
    return;
  }
  const seq = ++state.requestSeq;
  const name = imageName();
  document.body.dataset.state = 'busy';
  try {
    const answer = await api.segment(imageRef(), promptOf(cur.steps), previewSide(), true);
    if (seq !== state.requestSeq || state.current !== cur || imageName() !== name) return;
    // Only the candidate shown is decoded and painted now; the others when cycled to.
    cur.masks = answer.masks.map((a) => ({ answer: a }));
    cur.best = answer.best;
    const kept = cur.steps[cur.steps.length - 1].mask_index ?? cur.best;
    cur.chosen = Math.max(0, cur.masks.findIndex((m) => m.answer.mask_index === kept));
    renderCurrent();
    drawn('click', started, cur.masks.length ? shown(cur.masks[cur.chosen]).mask.area : 0);
  } catch (err) {
    if (seq !== state.requestSeq) return;
    // A click the model cannot take is undone, and the reason shown.
    if (err instanceof ApiError && err.status === 400) {
      cur.redo = [];
      cur.steps.pop();
      toast(err.message);
      void refresh();
    } else toast(err instanceof Error ? err.message : String(err));
  } finally {
    if (seq === state.requestSeq) document.body.dataset.state = 'ready';
  }
}

/** Add a click (or a box) to the current object, within what the model can take. */
function addStep(step: StepJson): void {
  const limits = state.limits;
  if (step.neg_points && limits && !limits.backgroundPoints) {
    toast(`${limits.name} has no background points: click inside the object, or drag a box`);
    return;
  }
  const cur = (state.current ??= { steps: [], redo: [], masks: [], chosen: 0, best: 0 });
  if (limits?.maxPoints) {
    const count = [...cur.steps, step].reduce((n, s) => n + (s.points?.length ?? 0) + (s.neg_points?.length ?? 0), 0);
    const box = [...cur.steps, step].some((s) => s.box) ? 2 : 0;
    if (count + box > limits.maxPoints) {
      toast(`${limits.name} reads at most ${limits.maxPoints} points (a box counts as 2)`);
      if (cur.steps.length === 0) state.current = undefined;
      return;
    }
  }
  cur.steps.push(step);
  cur.redo = [];
  state.hover = undefined;
  renderCurrent();
  draw();
  void refresh();
}

// Hover: one request at a time, the latest position sent when the last answer is back, so
// requests never queue up behind a fast mouse.
let hoverBusy = false;
/** The hover preview's canvas, painted over by each answer. */
const hoverCanvas = document.createElement('canvas');
let hoverWanted: { x: number; y: number; at: number } | undefined;
async function hover(x: number, y: number): Promise<void> {
  hoverWanted = { x, y, at: performance.now() };
  if (hoverBusy) return;
  hoverBusy = true;
  try {
    while (hoverWanted) {
      const want = hoverWanted;
      hoverWanted = undefined;
      if (state.current || state.everything || !state.size.width) continue;
      const name = imageName();
      let answer;
      try {
        answer = await api.segment(imageRef(), { points: [[want.x, want.y]] }, hoverSide(), false);
      } catch (err) {
        if (err instanceof ApiError && err.status === 429) continue;
        throw err;
      }
      if (state.current || state.everything || imageName() !== name || !state.hover) continue;
      const mask = decodeMask(answer.masks[0].segmentation);
      state.hover.painted = paintMask(mask, PALETTE[0], 0.4, 'contrast', hoverCanvas);
      drawn('hover', want.at, mask.area);
    }
  } catch (err) {
    toast(err instanceof Error ? err.message : String(err));
  } finally {
    hoverBusy = false;
  }
}

// ---------------------------------------------------------------- the current object's panel

function renderCurrent(): void {
  const cur = state.current;
  $('current-empty').hidden = Boolean(cur);
  $('current-body').hidden = !cur;
  if (!cur) return;
  const n = cur.masks.length;
  const family = state.limits?.selects ? 'mask' : 'candidate';
  $('candidate').textContent = n ? `${family} ${cur.chosen + 1} of ${n}` : 'computing…';
  $('score').textContent = n ? `${state.limits?.selects ? 'score' : 'IoU'} ${cur.masks[cur.chosen].answer.predicted_iou.toFixed(2)}` : '';
  $<HTMLButtonElement>('cycle').disabled = n < 2;
  $<HTMLButtonElement>('undo').disabled = cur.steps.length === 0;
  $<HTMLButtonElement>('redo').disabled = cur.redo.length === 0;
}

function renderCategories(): void {
  const list = $('category-list');
  list.replaceChildren(...state.categories.map((c) => Object.assign(document.createElement('option'), { value: c })));
  const chips = $('chips');
  chips.replaceChildren(
    ...state.categories.slice(0, 9).map((c, i) => {
      const b = document.createElement('button');
      b.innerHTML = `<span class="key">${i + 1}</span>`;
      b.append(c);
      b.title = `Accept as ${c} (${i + 1})`;
      b.onclick = () => accept(c);
      return b;
    }),
  );
}

function renderObjects(): void {
  const list = objects();
  $('object-count').textContent = list.length ? String(list.length) : '';
  document.body.dataset.objects = String(list.length);
  $('objects').replaceChildren(
    ...list.map((o, i) => {
      const li = document.createElement('li');
      li.className = state.selected === i ? 'selected' : '';
      const [r, g, b] = PALETTE[(i + 1) % PALETTE.length];
      const swatch = Object.assign(document.createElement('span'), { className: 'swatch' });
      swatch.style.background = `rgb(${r},${g},${b})`;
      const name = Object.assign(document.createElement('span'), { className: 'name', textContent: o.category });
      const relabel = document.createElement('select');
      relabel.title = 'Relabel';
      relabel.append(...state.categories.map((c) => Object.assign(document.createElement('option'), { value: c, textContent: c, selected: c === o.category })));
      relabel.onchange = () => {
        o.category = relabel.value;
        renderObjects();
        void save();
      };
      relabel.onclick = (e) => e.stopPropagation();
      const del = Object.assign(document.createElement('button'), { className: 'delete', textContent: '✕', title: 'Delete (Del)' });
      del.onclick = (e) => {
        e.stopPropagation();
        removeObject(i);
      };
      li.onclick = () => {
        state.selected = state.selected === i ? -1 : i;
        renderObjects();
        draw();
      };
      li.append(swatch, name, relabel, del);
      return li;
    }),
  );
}

function removeObject(i: number): void {
  objects().splice(i, 1);
  state.selected = -1;
  repaintObjects();
  renderObjects();
  draw();
  void save();
}

/** Colours follow list positions: repaint after a change. */
function repaintObjects(): void {
  objects().forEach((o, i) => {
    if (!o.mask) return;
    o.painted = paintMask(o.mask, PALETTE[(i + 1) % PALETTE.length], 0.4);
    o.corner ??= topLeft(o.mask);
  });
}

/** The first set pixel's row and the leftmost set column: where a label fits. */
function topLeft(mask: PageMask): [number, number] | undefined {
  let top = -1;
  let left = mask.width;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < left; x++) {
      if (!mask.data[y * mask.width + x]) continue;
      if (top < 0) top = y;
      left = x;
      break;
    }
  }
  return top < 0 ? undefined : [left, top];
}

function accept(category?: string): void {
  const cur = state.current;
  if (!cur || !cur.masks.length) return;
  const input = $<HTMLInputElement>('category');
  const name = (category ?? input.value).trim() || state.categories[0] || 'object';
  if (!state.categories.includes(name)) state.categories.push(name);
  const chosen = shown(cur.masks[cur.chosen]);
  objects().push({ category: name, prompt: promptOf(cur.steps), mask: chosen.mask });
  input.value = name;
  state.current = undefined;
  repaintObjects();
  renderCategories();
  renderCurrent();
  renderObjects();
  draw();
  void save();
}

function cycle(): void {
  const cur = state.current;
  if (!cur || cur.masks.length < 2) return;
  cur.chosen = (cur.chosen + 1) % cur.masks.length;
  const index = cur.masks[cur.chosen].answer.mask_index;
  const last = cur.steps[cur.steps.length - 1];
  // The kept candidate is part of the prompt: the next click refines it, and the CLI replays it.
  if (index === cur.best) delete last.mask_index;
  else last.mask_index = index;
  renderCurrent();
  draw();
}

function undo(): void {
  const cur = state.current;
  if (!cur || !cur.steps.length) return;
  cur.redo.push(cur.steps.pop()!);
  void refresh();
  renderCurrent();
}
function redo(): void {
  const cur = state.current;
  if (!cur || !cur.redo.length) return;
  cur.steps.push(cur.redo.pop()!);
  void refresh();
  renderCurrent();
}

// ---------------------------------------------------------------- saving

function setSaveState(text: string, kind: '' | 'ok' | 'bad' | 'dirty'): void {
  const el = $('save-state');
  el.textContent = text;
  el.className = `save-state ${kind}`;
  document.body.dataset.save = kind || 'idle';
}

/** Save the image's objects (one save at a time, in order). */
function save(): Promise<unknown> {
  if (!state.canSave) {
    setSaveState('not saved: no folder served', 'dirty');
    return Promise.resolve();
  }
  const name = imageName();
  const payload: SessionObject[] = objects().map((o) => ({ category: o.category, prompt: o.prompt }));
  const categories = [...state.categories];
  setSaveState('saving…', 'dirty');
  state.saving = state.saving.then(async () => {
    try {
      const result = await api.save(name, payload, categories);
      if (result.problems.length) {
        setSaveState('saved with problems', 'bad');
        toast(result.problems[0]);
      } else setSaveState('saved ✓', 'ok');
      markSaved(name, payload.length);
    } catch (err) {
      setSaveState('save failed', 'bad');
      toast(err instanceof Error ? err.message : String(err));
    }
  });
  return state.saving;
}

function markSaved(name: string, count: number): void {
  const li = document.querySelector<HTMLElement>(`#image-list li[data-name="${CSS.escape(name)}"] .count`);
  if (li) li.textContent = count ? String(count) : '';
}

// ---------------------------------------------------------------- everything

async function everything(): Promise<void> {
  if (state.everything) {
    state.everything = undefined;
    $('everything').classList.remove('active');
    draw();
    return;
  }
  const started = performance.now();
  status('finding every mask…');
  document.body.dataset.state = 'busy';
  try {
    const doc = await api.everything(imageRef());
    state.everything = doc.annotations.map((a, i) => {
      const mask = decodeMask(a.segmentation);
      const [x, y, w, h] = a.bbox;
      return { mask, painted: paintMask(mask, PALETTE[i % PALETTE.length], 0.35), box: [x, y, x + w - 1, y + h - 1] as [number, number, number, number] };
    });
    $('everything').classList.add('active');
    toast(`${doc.annotations.length} masks: click one to take it`);
    draw();
    status(`everything: ${doc.annotations.length} masks in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    toast(err instanceof Error ? err.message : String(err));
  } finally {
    document.body.dataset.state = 'ready';
  }
}

/** Take the everything mask under a click: its box becomes the prompt (replayable by the CLI). */
function pickEverything(x: number, y: number): void {
  const found = [...(state.everything ?? [])].reverse().find((m) => {
    const mx = Math.floor((x * m.mask.width) / state.size.width);
    const my = Math.floor((y * m.mask.height) / state.size.height);
    return m.mask.data[my * m.mask.width + mx] === 1;
  });
  if (!found) return;
  state.everything = undefined;
  $('everything').classList.remove('active');
  state.current = undefined;
  addStep({ box: found.box });
}

// ---------------------------------------------------------------- opening images

async function openImage(index: number): Promise<void> {
  if (index < 0 || index >= state.images.length) return;
  state.index = index;
  state.current = undefined;
  state.hover = undefined;
  state.everything = undefined;
  state.selected = -1;
  $('everything').classList.remove('active');
  const name = imageName();
  $('image-name').textContent = `${index + 1} / ${state.images.length}  ${name}`;
  document.querySelectorAll('#image-list li').forEach((li) => li.classList.toggle('current', (li as HTMLElement).dataset.name === name));
  document.body.dataset.state = 'busy';
  document.body.dataset.image = name;
  const upload = state.uploads.get(name);
  const img = new Image();
  img.src = upload ? `data:image/*;base64,${upload}` : `/api/image?name=${encodeURIComponent(name)}`;
  await img.decode();
  if (imageName() !== name) return;
  state.image = img;
  state.size = { width: img.naturalWidth, height: img.naturalHeight };
  renderCurrent();
  renderObjects();
  layout();
  status('computing the image embedding…');
  try {
    const { ms } = await api.prepare(imageRef());
    status(`ready (embedding ${ms} ms)`);
  } catch (err) {
    toast(err instanceof Error ? err.message : String(err));
  }
  // Saved objects come back as prompts: their masks are asked for again, one by one.
  for (const o of objects()) {
    if (o.mask || imageName() !== name) continue;
    try {
      const answer = await api.segment(imageRef(), o.prompt, previewSide(), false);
      o.mask = decodeMask(answer.masks[0].segmentation);
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err));
    }
  }
  if (imageName() !== name) return;
  repaintObjects();
  draw();
  document.body.dataset.state = 'ready';
  // The next image's embedding is computed while the person works on this one.
  const next = state.images[index + 1];
  if (next !== undefined && !state.uploads.has(next)) void api.prepare({ image: next }).catch(() => undefined);
}

function renderImageList(counts: Record<string, number>): void {
  $('image-list').replaceChildren(
    ...state.images.map((name, i) => {
      const li = document.createElement('li');
      li.dataset.name = name;
      li.title = name;
      li.append(Object.assign(document.createElement('span'), { textContent: name }), Object.assign(document.createElement('span'), { className: 'count', textContent: counts[name] ? String(counts[name]) : '' }));
      li.onclick = () => void openImage(i);
      return li;
    }),
  );
}

// ---------------------------------------------------------------- input

stage.addEventListener('contextmenu', (e) => e.preventDefault());
stage.addEventListener('mousedown', (e) => {
  if (!state.size.width || (e.button !== 0 && e.button !== 2)) return;
  const p = toImage(e);
  if (!p.inside) return;
  state.drag = { x0: p.x, y0: p.y, x1: p.x, y1: p.y, moved: false, negative: e.button === 2 || e.shiftKey };
});
window.addEventListener('mousemove', (e) => {
  const p = toImage(e);
  if (state.drag) {
    state.drag.x1 = p.x;
    state.drag.y1 = p.y;
    // A box needs a real drag: a shaky click stays a click.
    if (Math.abs(p.x - state.drag.x0) * state.view.scale > 5 || Math.abs(p.y - state.drag.y0) * state.view.scale > 5) state.drag.moved = true;
    draw();
    return;
  }
  if (e.target !== overlay && e.target !== stage) return;
  if (!p.inside || state.current || state.everything) {
    if (state.hover) {
      state.hover = undefined;
      draw();
    }
    return;
  }
  state.hover = { x: p.x, y: p.y, painted: state.hover?.painted };
  void hover(p.x, p.y);
});
window.addEventListener('mouseup', () => {
  const d = state.drag;
  state.drag = undefined;
  if (!d) return;
  if (state.everything) {
    pickEverything(d.x0, d.y0);
    return;
  }
  if (d.moved && !d.negative) {
    addStep({ box: [Math.min(d.x0, d.x1), Math.min(d.y0, d.y1), Math.max(d.x0, d.x1), Math.max(d.y0, d.y1)] });
  } else if (d.negative) {
    if (!state.current) toast('start with a click on the object; right-click then subtracts');
    else addStep({ neg_points: [[d.x0, d.y0]] });
  } else addStep({ points: [[d.x0, d.y0]] });
  draw();
});
stage.addEventListener('mouseleave', () => {
  if (state.hover && !state.drag) {
    state.hover = undefined;
    draw();
  }
});

window.addEventListener('keydown', (e) => {
  const typing = (e.target as HTMLElement).tagName === 'INPUT';
  if (e.key === 'Enter') {
    e.preventDefault();
    accept();
    return;
  }
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
    e.preventDefault();
    void save();
    return;
  }
  if (typing) return;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
    e.preventDefault();
    if (e.shiftKey) redo();
    else undo();
  } else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'y') redo();
  else if (e.key === 'Tab') {
    e.preventDefault();
    cycle();
  } else if (e.key === 'Escape') {
    if (state.everything) void everything();
    state.current = undefined;
    renderCurrent();
    draw();
  } else if (e.key === 'ArrowRight' || e.key === 'd') void openImage(state.index + 1);
  else if (e.key === 'ArrowLeft' || e.key === 'a') void openImage(state.index - 1);
  else if (e.key === 'e') void everything();
  else if ((e.key === 'Delete' || e.key === 'Backspace') && state.selected >= 0) removeObject(state.selected);
  else if (/^[1-9]$/.test(e.key) && state.categories[Number(e.key) - 1]) accept(state.categories[Number(e.key) - 1]);
});

$('prev').onclick = () => void openImage(state.index - 1);
$('next').onclick = () => void openImage(state.index + 1);
$('accept').onclick = () => accept();
$('discard').onclick = () => {
  state.current = undefined;
  renderCurrent();
  draw();
};
$('cycle').onclick = cycle;
$('undo').onclick = undo;
$('redo').onclick = redo;
$('save').onclick = () => void save();
$('everything').onclick = () => void everything();
window.addEventListener('resize', layout);

// Drag and drop: any image opens for annotation (prompts run on its bytes; nothing is saved).
stage.addEventListener('dragover', (e) => {
  e.preventDefault();
  stage.classList.add('dragover');
});
stage.addEventListener('dragleave', () => stage.classList.remove('dragover'));
stage.addEventListener('drop', (e) => {
  e.preventDefault();
  stage.classList.remove('dragover');
  const file = e.dataTransfer?.files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    const data = String(reader.result).replace(/^data:[^,]*,/, '');
    const name = `${file.name} (uploaded)`;
    state.uploads.set(name, data);
    state.images.push(name);
    renderImageList({});
    void openImage(state.images.length - 1);
  };
  reader.readAsDataURL(file);
});

// ---------------------------------------------------------------- start

async function start(): Promise<void> {
  const [models, list, session] = await Promise.all([api.models(), api.images(), api.session()]);
  state.limits = models.serving;
  const l = models.serving;
  const can = [l.refines ? 'each click refines' : l.selects ? 'selects among its masks' : 'clicks answered anew', l.backgroundPoints ? 'background points' : 'no background points'];
  $('model').textContent = `${l.name} · ${can.join(' · ')}`;
  $('model').title = `family ${l.family}${l.maxPoints ? `, at most ${l.maxPoints} points` : ''}`;
  state.images = list.images;
  state.canSave = list.folder !== null;
  $<HTMLButtonElement>('save').disabled = !state.canSave;
  if (!state.canSave) $('images').classList.add('uploads');
  state.categories = session.categories.map((c) => c.name);
  const counts: Record<string, number> = {};
  for (const [name, objs] of Object.entries(session.images)) {
    state.objects.set(name, objs.map((o) => ({ category: o.category, prompt: o.prompt })));
    counts[name] = objs.length;
  }
  renderCategories();
  renderImageList(counts);
  renderCurrent();
  document.body.dataset.state = 'ready';
  if (state.images.length) await openImage(0);
  else status('drop an image on the page to start');
}

start().catch((err) => {
  document.body.dataset.state = 'error';
  toast(err instanceof Error ? err.message : String(err));
});
