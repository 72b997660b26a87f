/**
 * `samlite serve` latencies on the MobileSAM stand-in and the 2 MP photo, and the
 * measurement that chose where the page's decoder runs:
 *
 * - API: POST /api/segment click -> mask (full resolution, and the page's preview size)
 *   against the bare decoder session run at the same render size.
 * - Page, decoder on the server: hover / click -> mask drawn in Chromium, as the page
 *   itself times it (event to canvas drawn).
 * - Page, decoder in the browser: onnxruntime-web (wasm) running the same decoder file on
 *   the same embedding in Chromium, as SAM's demo does: click -> mask drawn.
 * - 8 clients x 200 mixed requests: p50/p95 per request and the process's peak RSS.
 *
 * Chromium-less machines print one line for the browser rows and measure the rest.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { samPromptTensors } from '../../src/families/sam.js';
import { loadImage } from '../../src/image/load.js';
import { Segmenter } from '../../src/segmenter/segmenter.js';
import { previewSize } from '../../src/server/service.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { loadManifest } from '../../src/store/manifest.js';
import { resolveEntry } from '../../src/store/resolve.js';
import type { BenchImage } from './images.js';
import type { TargetResult } from './report.js';
import { note, round1 } from './util.js';

const CHROMIUM = process.env.SAMLITE_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'bench-token-0123456789abcdef';
/** The preview the page asks for on the bench's 1280x800 window: the displayed long side. */
const VIEWPORT = { width: 1280, height: 800 };
/** The page's hover side on that window: half its 768-pixel click side (HOVER_SCALE in src/page/main.ts). */
const HOVER_SIDE = 384;

/** p50 / p95 / max of a list of milliseconds. */
export interface Percentiles {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { n: s.length, p50: round1(at(0.5)), p95: round1(at(0.95)), max: round1(s[s.length - 1]) };
}

export interface ServeBench {
  readonly model: string;
  readonly photo: string;
  readonly bareDecoderMs: { readonly full: Percentiles; readonly preview: Percentiles; readonly previewSize: string; readonly hover: Percentiles; readonly hoverSize: string };
  readonly apiClickMs: { readonly full: Percentiles; readonly preview: Percentiles };
  readonly pageServerDecoder?: { readonly hover: Percentiles; readonly click: Percentiles; readonly previewSide: number };
  readonly pageBrowserDecoder?: { readonly click: Percentiles; readonly threads: number; readonly renderSize: string };
  readonly browserNote?: string;
  readonly load: { readonly clients: number; readonly requests: number; readonly all: Percentiles; readonly segment: Percentiles; readonly refused429: number; readonly peakRssMB: number };
}

/** One request; resolves to the status and the body's text once it is all read. */
function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolvePromise({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Click positions spread over the photo's middle. */
function clicks(photo: BenchImage, n: number): [number, number][] {
  return Array.from({ length: n }, (_, i) => [Math.round(photo.width * (0.2 + 0.6 * ((i * 0.37) % 1))), Math.round(photo.height * (0.25 + 0.5 * ((i * 0.61) % 1)))]);
}

export async function measureServe(manifest: string, photo: BenchImage, tmp: string, runs: number): Promise<ServeBench> {
  const folder = join(tmp, 'serve-photos');
  mkdirSync(folder, { recursive: true });
  const name = `photo${photo.path.slice(photo.path.lastIndexOf('.'))}`;
  copyFileSync(photo.path, join(folder, name));
  const model = resolveEntry(loadManifest(manifest));
  const image = await loadImage(photo.path);
  const preview = previewSize(image, 768);
  const hoverRender = previewSize(image, HOVER_SIDE);

  // The bare decoder: the session alone, on the main thread, fed what samlite feeds.
  note(`serve: bare decoder (${model.name}) at ${image.width}x${image.height} and ${preview.width}x${preview.height}`);
  const seg = await Segmenter.open(model, { inference: 'main', embeddingCache: false });
  const embedding = await seg.embed(image);
  const decoder = await ort.InferenceSession.create(model.files.decoder!);
  const bare = async (render: { width: number; height: number }) => {
    const times: number[] = [];
    for (const [i, [x, y]] of clicks(photo, runs + 2).entries()) {
      const feeds = { image_embeddings: new ort.Tensor('float32', embedding.data, embedding.dims), ...samPromptTensors({ points: [{ x, y }] }, image, render, 4) };
      const t0 = performance.now();
      await decoder.run(feeds);
      if (i >= 2) times.push(performance.now() - t0);
    }
    return percentiles(times);
  };
  const bareFull = await bare(image);
  const barePreview = await bare(preview);
  const bareHover = await bare(hoverRender);
  await decoder.release();
  await seg.close();

  const server = await startServer({
    inputs: [folder],
    model: manifest,
    session: { outDir: join(tmp, 'serve-out'), formats: [], dataset: ['coco'] },
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    maxBody: 64 * 1024 * 1024,
    queueBound: 16,
    pipeline: { inference: 'worker' },
  });
  try {
    note('serve: API click -> mask');
    await call(server.url, 'POST', '/api/prepare', { image: name });
    const api = async (previewSide?: number) => {
      const times: number[] = [];
      for (const [i, [x, y]] of clicks(photo, runs + 2).entries()) {
        const t0 = performance.now();
        const res = await call(server.url, 'POST', '/api/segment', { image: name, prompt: { points: [[x, y]] }, ...(previewSide ? { preview_side: previewSide } : {}) });
        const ms = performance.now() - t0;
        if (res.status !== 200) throw new Error(`segment answered ${res.status}: ${res.text.slice(0, 200)}`);
        if (i >= 2) times.push(ms);
      }
      return percentiles(times);
    };
    const apiFull = await api();
    const apiPreview = await api(768);

    let pageServer: ServeBench['pageServerDecoder'];
    let pageBrowser: ServeBench['pageBrowserDecoder'];
    let browserNote: string | undefined;
    if (!existsSync(CHROMIUM)) {
      browserNote = `browser rows not measured: no Chromium at ${CHROMIUM} (apt-get install chromium, or set SAMLITE_CHROMIUM)`;
      note(browserNote);
    } else {
      const context = await chromium.launchPersistentContext(join(tmp, 'chromium-profile'), {
        executablePath: CHROMIUM,
        viewport: VIEWPORT,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      try {
        note('serve: page, decoder on the server (hover and click -> mask drawn)');
        pageServer = await pageWithServerDecoder(context, server, photo, runs);
        note('serve: page, decoder in the browser (onnxruntime-web wasm)');
        pageBrowser = await pageWithBrowserDecoder(context, model.files.decoder!, embedding.data, image, pageServer.previewSide, photo, runs);
      } finally {
        await context.close();
      }
    }

    note('serve: 8 clients x 200 mixed requests');
    const load = await loadTest(server, name, photo);
    return {
      model: model.name,
      photo: `${photo.source} (${photo.width}x${photo.height})`,
      bareDecoderMs: { full: bareFull, preview: barePreview, previewSize: `${preview.width}x${preview.height}`, hover: bareHover, hoverSize: `${hoverRender.width}x${hoverRender.height}` },
      apiClickMs: { full: apiFull, preview: apiPreview },
      ...(pageServer ? { pageServerDecoder: pageServer } : {}),
      ...(pageBrowser ? { pageBrowserDecoder: pageBrowser } : {}),
      ...(browserNote ? { browserNote } : {}),
      load,
    };
  } finally {
    await server.close();
  }
}

/** Page positions of image pixels, from the page's own view. */
async function pagePoint(page: Page, x: number, y: number): Promise<[number, number]> {
  return page.evaluate(([px, py]) => {
    const { view } = (window as unknown as { samlite: { state: { view: { scale: number; ox: number; oy: number } } } }).samlite.state;
    const rect = document.getElementById('stage')!.getBoundingClientRect();
    return [rect.left + view.ox + px * view.scale, rect.top + view.oy + py * view.scale] as [number, number];
  }, [x, y]);
}

async function waitDrawn(page: Page, before: number, kind: string): Promise<void> {
  await page.waitForFunction(([n, k]) => Number(document.body.dataset.drawn ?? 0) > (n as number) && document.body.dataset.lastKind === k, [before, kind] as const, { timeout: 60_000 });
}

async function pageWithServerDecoder(context: BrowserContext, server: RunningServer, photo: BenchImage, runs: number) {
  const page = await context.newPage();
  await page.goto(`${server.url}/?token=${TOKEN}`);
  await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.body.dataset.image !== undefined, undefined, { timeout: 120_000 });
  const drawnCount = () => page.evaluate(() => Number(document.body.dataset.drawn ?? 0));
  // Hover: the mouse rests on each point until its preview is drawn.
  for (const [x, y] of clicks(photo, runs + 2)) {
    const before = await drawnCount();
    await page.mouse.move(...(await pagePoint(page, x, y)));
    await waitDrawn(page, before, 'hover');
  }
  await page.mouse.move(2, 2);
  for (const [x, y] of clicks(photo, runs + 2).reverse()) {
    // As a person does: the pointer comes to rest (its hover preview drawn), then clicks; so
    // no hover request is still in the queue ahead of the click.
    const at = await pagePoint(page, x, y);
    let before = await drawnCount();
    await page.mouse.move(...at);
    await waitDrawn(page, before, 'hover');
    before = await drawnCount();
    await page.mouse.down();
    await page.mouse.up();
    await waitDrawn(page, before, 'click');
    await page.keyboard.press('Escape');
    await page.mouse.move(2, 2);
  }
  const { timings, side } = await page.evaluate(() => {
    const w = window as unknown as { samlite: { timings: { kind: string; ms: number }[] } };
    const rect = document.getElementById('stage')!.getBoundingClientRect();
    return { timings: w.samlite.timings, side: Math.round(Math.max(rect.width, rect.height) * devicePixelRatio) };
  });
  await page.close();
  // The first two of each kind warm the page and the model's caches.
  const of = (kind: string) => percentiles(timings.filter((t) => t.kind === kind).slice(2).map((t) => t.ms));
  return { hover: of('hover'), click: of('click'), previewSide: Math.min(768, side) };
}

/** The harness page: onnxruntime-web runs the decoder on each click and draws the mask. */
const HARNESS = `<!doctype html><meta charset="utf-8"><body style="margin:0"><canvas id="c" width="1280" height="800"></canvas>
<script type="module">
import * as ort from '/ort/ort.wasm.bundle.min.mjs';
ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = self.crossOriginIsolated ? navigator.hardwareConcurrency : 1;
const cfg = await (await fetch('/config.json')).json();
const session = await ort.InferenceSession.create('/decoder.onnx', { executionProviders: ['wasm'] });
const embedding = new Float32Array(await (await fetch('/embedding.bin')).arrayBuffer());
const canvas = document.getElementById('c');
const ctx = canvas.getContext('2d');
const mask = document.createElement('canvas');
mask.width = cfg.render.width; mask.height = cfg.render.height;
const mctx = mask.getContext('2d');
const scale = Math.min(canvas.width / cfg.image.width, canvas.height / cfg.image.height);
window.timings = [];
canvas.addEventListener('mousedown', async (ev) => {
  const t0 = performance.now();
  const x = ev.offsetX / scale, y = ev.offsetY / scale;
  const s = cfg.frame.width / cfg.image.width, t = cfg.frame.height / cfg.image.height;
  const feeds = {
    image_embeddings: new ort.Tensor('float32', embedding, [1, 256, 64, 64]),
    point_coords: new ort.Tensor('float32', Float32Array.from([x * s, y * t, 0, 0]), [1, 2, 2]),
    point_labels: new ort.Tensor('float32', Float32Array.from([1, -1]), [1, 2]),
    mask_input: new ort.Tensor('float32', new Float32Array(65536), [1, 1, 256, 256]),
    has_mask_input: new ort.Tensor('float32', Float32Array.from([0]), [1]),
    orig_im_size: new ort.Tensor('float32', Float32Array.from([cfg.render.height, cfg.render.width]), [2]),
  };
  const out = await session.run(feeds);
  const iou = out.iou_predictions.data;
  let best = 1; for (const i of [2, 3]) if (iou[i] > iou[best]) best = i;
  const plane = cfg.render.width * cfg.render.height;
  const logits = out.masks.data.subarray(best * plane, (best + 1) * plane);
  const img = mctx.createImageData(cfg.render.width, cfg.render.height);
  for (let i = 0; i < plane; i++) if (logits[i] > 0) { img.data[i * 4] = 59; img.data[i * 4 + 1] = 140; img.data[i * 4 + 2] = 255; img.data[i * 4 + 3] = 128; }
  mctx.putImageData(img, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(mask, 0, 0, cfg.image.width * scale, cfg.image.height * scale);
  window.timings.push(performance.now() - t0);
  document.body.dataset.drawn = String(window.timings.length);
});
document.body.dataset.ready = '1';
</script>`;

async function pageWithBrowserDecoder(
  context: BrowserContext,
  decoderPath: string,
  embedding: Float32Array,
  image: { width: number; height: number },
  previewSide: number,
  photo: BenchImage,
  runs: number,
) {
  const ortDir = resolve(import.meta.dirname, '..', '..', 'node_modules', 'onnxruntime-web', 'dist');
  const render = previewSize(image, previewSide);
  const frameScale = 1024 / Math.max(image.width, image.height);
  const config = JSON.stringify({ image, render, frame: { width: Math.floor(image.width * frameScale + 0.5), height: Math.floor(image.height * frameScale + 0.5) } });
  const files: Record<string, () => { type: string; body: Buffer | string }> = {
    '/': () => ({ type: 'text/html', body: HARNESS }),
    '/config.json': () => ({ type: 'application/json', body: config }),
    '/decoder.onnx': () => ({ type: 'application/octet-stream', body: readFileSync(decoderPath) }),
    '/embedding.bin': () => ({ type: 'application/octet-stream', body: Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength) }),
  };
  // Cross-origin isolation, so onnxruntime-web may use threads (SharedArrayBuffer).
  const harness = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
    const known = files[path];
    const ortFile = path.startsWith('/ort/') ? join(ortDir, path.slice(5).replace(/[^\w.-]/g, '')) : undefined;
    if (known) {
      const { type, body } = known();
      res.writeHead(200, { 'content-type': type, ...isolation });
      res.end(body);
    } else if (ortFile && existsSync(ortFile)) {
      res.writeHead(200, { 'content-type': ortFile.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', ...isolation });
      res.end(readFileSync(ortFile));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => harness.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(harness.address() as AddressInfo).port}`;
  const page = await context.newPage();
  try {
    await page.goto(`${base}/`);
    await page.waitForFunction(() => document.body.dataset.ready === '1', undefined, { timeout: 120_000 });
    const threads = await page.evaluate(() => (self.crossOriginIsolated ? navigator.hardwareConcurrency : 1));
    const scale = Math.min(1280 / image.width, 800 / image.height);
    for (const [i, [x, y]] of clicks(photo, runs + 2).entries()) {
      await page.mouse.click(x * scale, y * scale);
      await page.waitForFunction((n) => Number(document.body.dataset.drawn ?? 0) >= n, i + 1, { timeout: 60_000 });
    }
    const timings = await page.evaluate(() => (window as unknown as { timings: number[] }).timings);
    return { click: percentiles(timings.slice(2)), threads, renderSize: `${render.width}x${render.height}` };
  } finally {
    await page.close();
    harness.close();
  }
}

/** 8 clients x 200 mixed requests (a quarter each: health, image list, session, a click's preview). */
async function loadTest(server: RunningServer, name: string, photo: BenchImage): Promise<ServeBench['load']> {
  const all: number[] = [];
  const segments: number[] = [];
  let refused = 0;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const points = clicks(photo, 16);
  const client = async (c: number) => {
    for (let i = 0; i < 200; i++) {
      const kind = (c + i) % 4;
      const [x, y] = points[(c * 5 + i) % points.length];
      for (;;) {
        const t0 = performance.now();
        const res =
          kind === 0
            ? await call(server.url, 'GET', '/api/health')
            : kind === 1
              ? await call(server.url, 'GET', '/api/images')
              : kind === 2
                ? await call(server.url, 'GET', '/api/session')
                : await call(server.url, 'POST', '/api/segment', { image: name, prompt: { points: [[x, y]] }, preview_side: 768 });
        const ms = performance.now() - t0;
        if (res.status === 429) {
          refused++;
          continue;
        }
        if (res.status !== 200) throw new Error(`load test: ${res.status} ${res.text.slice(0, 200)}`);
        all.push(ms);
        if (kind === 3) segments.push(ms);
        break;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
  } finally {
    clearInterval(sampler);
  }
  return { clients: 8, requests: all.length, all: percentiles(all), segment: percentiles(segments), refused429: refused, peakRssMB: round1(peakRss / 1e6) };
}

/** The serve rows of the printed report, and the two targets. */
export function printServe(b: ServeBench): void {
  const p = (x: Percentiles) => `p50 ${x.p50} ms, p95 ${x.p95} ms (n ${x.n})`;
  console.log(`\nserve (${b.model}, ${b.photo}):`);
  console.log(`  bare decoder, full size:           ${p(b.bareDecoderMs.full)}`);
  console.log(`  bare decoder, preview ${b.bareDecoderMs.previewSize}:  ${p(b.bareDecoderMs.preview)}`);
  console.log(`  bare decoder, hover ${b.bareDecoderMs.hoverSize}:    ${p(b.bareDecoderMs.hover)}`);
  console.log(`  API click -> mask, full size:      ${p(b.apiClickMs.full)}`);
  console.log(`  API click -> mask, preview:        ${p(b.apiClickMs.preview)}`);
  if (b.pageServerDecoder) {
    console.log(`  page hover -> mask drawn (server decoder, ${b.bareDecoderMs.hoverSize}): ${p(b.pageServerDecoder.hover)}`);
    console.log(`  page click -> mask drawn (server decoder): ${p(b.pageServerDecoder.click)}`);
  }
  if (b.pageBrowserDecoder) console.log(`  page click -> mask drawn (onnxruntime-web, ${b.pageBrowserDecoder.threads} thread(s), ${b.pageBrowserDecoder.renderSize}): ${p(b.pageBrowserDecoder.click)}`);
  if (b.browserNote) console.log(`  ${b.browserNote}`);
  console.log(`  ${b.load.clients} clients x ${b.load.requests / b.load.clients} mixed requests: all ${p(b.load.all)}; clicks ${p(b.load.segment)}; 429s retried ${b.load.refused429}; peak RSS ${b.load.peakRssMB} MB`);
  for (const t of serveTargets(b)) console.log(`  ${t.target}: ${t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED'} (${t.value ?? '-'} ms, limit ${t.limit} ms)`);
}

/** The two latency targets, evaluated (null: not measured here). */
export function serveTargets(b: ServeBench): TargetResult[] {
  const page = b.pageServerDecoder;
  return [
    {
      target: 'serve: API click -> mask p50 <= bare decoder + 15 ms',
      scope: `${b.model}, full size`,
      value: b.apiClickMs.full.p50,
      limit: round1(b.bareDecoderMs.full.p50 + 15),
      unit: 'ms',
      met: b.apiClickMs.full.p50 <= b.bareDecoderMs.full.p50 + 15,
      basis: `API p50 against the bare decoder session's p50 (${b.bareDecoderMs.full.p50} ms) at the photo's size`,
    },
    {
      target: 'serve: page hover/click -> mask drawn p95 <= 100 ms',
      scope: `${b.model}, Chromium`,
      value: page ? Math.max(page.hover.p95, page.click.p95) : null,
      limit: 100,
      unit: 'ms',
      met: page ? Math.max(page.hover.p95, page.click.p95) <= 100 : null,
      basis: page ? `the worse of hover p95 ${page.hover.p95} ms and click p95 ${page.click.p95} ms, as the page times them` : (b.browserNote ?? 'not measured'),
    },
  ];
}
