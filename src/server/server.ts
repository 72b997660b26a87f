/**
 * `samlite serve`'s HTTP service: the annotation page, samlite's own API and osam's, on
 * node:http. Every request passes the token check; model work goes through one bounded
 * queue; a bad request is a 4xx JSON error and the server stays up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { UsageError, oneLine } from '../util/errors.js';
import type { ImageEmbedding } from '../families/types.js';
import { resolveMaxPixels } from '../image/limits.js';
import type { LoadedImage } from '../image/types.js';
import type { PipelineOptions } from '../segmenter/pipeline.js';
import { loadRegistry } from '../store/registry.js';
import { isInstalled } from '../store/resolve.js';
import { AnnotationSession, type SessionObject, type SessionSettings } from './annotations.js';
import { checkToken, tokenCookie } from './auth.js';
import { openServedFolder, servedImage, type ServedFolder } from './folder.js';
import { HttpError, errorAnswer, readJson, sendBytes, sendJson } from './http.js';
import { openApiDocument } from './openapi.js';
import { OsamError, centrePrompt, osamAnnotation, osamEmbeddingJson, osamExtra, osamModel, parseOsamRequest } from './osam.js';
import { InferenceQueue } from './queue.js';
import { ImageCache, ModelPool, RefinementCache, answerPrompt, answerRecords, everythingDocument, previewSize, promptSetFromJson, type OpenModel } from './service.js';
import { pageAsset } from './static.js';

/** How `serve` was asked to run. */
export interface ServeOptions {
  /** A folder of images, or image files; none: images come by upload only. */
  readonly inputs: readonly string[];
  /** The model (default: the default-model rule). */
  readonly model?: string;
  /** Where saves go, and what they write. */
  readonly session: Omit<SessionSettings, 'outDir'> & { readonly outDir: string };
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** undefined: `--no-token` (loopback only). */
  readonly token: string | undefined;
  /** Origin allowed by CORS; undefined: CORS off. */
  readonly cors?: string;
  readonly maxPixels?: number;
  /** Largest request body in bytes. */
  readonly maxBody: number;
  /** Most requests waiting for the model at once. */
  readonly queueBound: number;
  readonly pipeline: PipelineOptions;
}

/** A running server. */
export interface RunningServer {
  /** http://host:port (no token). */
  readonly url: string;
  readonly port: number;
  readonly queue: InferenceQueue;
  /** Stop accepting, finish in-flight requests and saves, close the models. */
  close(): Promise<void>;
}

/** Hosts that reach only this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Start the server; resolves once it listens. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  if (options.token === undefined && !isLoopback(options.host)) {
    throw new UsageError(`--no-token is allowed on loopback only; --host ${options.host} needs a token`);
  }
  const folder: ServedFolder | undefined = options.inputs.length > 0 ? await openServedFolder(options.inputs, options.session.outDir) : undefined;
  const pool = new ModelPool(options.pipeline);
  // The server's own model opens now: a missing or broken model stops `serve` at once.
  const main = await pool.get(options.model);
  const session = folder ? await AnnotationSession.open(folder, options.session) : undefined;
  const images = new ImageCache(options.maxPixels);
  const refinements = new RefinementCache();
  const queue = new InferenceQueue(options.queueBound);
  const context: Context = { options, folder, pool, main, session, images, refinements, queue };

  const answering = new Set<ServerResponse>();
  let drained: (() => void) | undefined;
  let stopping = false;
  // Once stopping, every answer closes its connection: a kept-alive socket would otherwise
  // hold server.close() for the whole keep-alive minute after the last request.
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  const server: Server = createServer((req, res) => {
    answering.add(res);
    if (stopping) closeAfter(res);
    res.on('close', () => {
      answering.delete(res);
      if (answering.size === 0) drained?.();
      if (stopping) server.closeIdleConnections();
    });
    handle(context, req, res).catch((err) => fail(res, err));
  });
  // Slow or idle clients must not hold the server's sockets for ever; kept-alive sockets
  // stay open a minute, so a client between two clicks rarely reconnects (or races a close).
  server.requestTimeout = 120_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new UsageError(`cannot listen on ${options.host}:${options.port} (${oneLine(err)})`)));
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    queue,
    close: () =>
      (closing ??= (async () => {
        stopping = true;
        for (const res of answering) closeAfter(res);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (answering.size > 0) await new Promise<void>((resolve) => (drained = resolve));
        await queue.idle();
        // Connections whose last answer went out while stopping are idle now: close them.
        server.closeIdleConnections();
        await stopped;
        await pool.close();
      })()),
  };
}

interface Context {
  readonly options: ServeOptions;
  readonly folder: ServedFolder | undefined;
  readonly pool: ModelPool;
  readonly main: Promise<OpenModel> | OpenModel;
  readonly session: AnnotationSession | undefined;
  readonly images: ImageCache;
  readonly refinements: RefinementCache;
  readonly queue: InferenceQueue;
}

function fail(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof OsamError) {
    sendJson(res, err.status, err.body);
    return;
  }
  const { status, message, headers } = errorAnswer(err);
  sendJson(res, status, { error: message }, { ...headers, ...(status === 413 ? { connection: 'close' } : {}) });
}

/** The Host header must name this machine when bound to loopback (no DNS rebinding). */
function checkHost(req: IncomingMessage, options: ServeOptions): void {
  if (!isLoopback(options.host)) return;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (!isLoopback(host)) throw new HttpError(403, `Host ${JSON.stringify(req.headers.host ?? '')} is not this machine: the server answers localhost only`);
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const { options } = ctx;
  if (options.cors) {
    res.setHeader('access-control-allow-origin', options.cors);
    res.setHeader('vary', 'origin');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '600' });
      res.end();
      return;
    }
  }
  checkHost(req, options);
  const from = checkToken(req, url, options.token);
  // The URL printed with its token: keep the token as a cookie and drop it from the address bar.
  if (from === 'query' && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
    url.searchParams.delete('token');
    res.writeHead(303, { location: `${url.pathname}${url.search}`, 'set-cookie': tokenCookie(options.token!) });
    res.end();
    return;
  }
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case 'GET /':
    case 'GET /index.html':
      return sendAsset(res, 'index.html');
    case 'GET /api/health':
      return sendJson(res, 200, { ok: true, model: (await ctx.main).limits.name, queue: ctx.queue.stats() });
    case 'GET /api/openapi.json':
      return sendJson(res, 200, openApiDocument());
    case 'GET /api/models':
      return sendJson(res, 200, await modelsAnswer(ctx));
    case 'GET /api/images':
      return sendJson(res, 200, { folder: ctx.folder?.root ?? null, images: (ctx.folder?.images ?? []).map((i) => i.name) });
    case 'GET /api/image':
      return sendImage(ctx, res, url.searchParams.get('name'));
    case 'GET /api/session':
      return sendJson(res, 200, ctx.session ? { file: ctx.session.path, ...ctx.session.view() } : { file: null, categories: [], images: {} });
    case 'POST /api/prepare':
      return prepare(ctx, req, res);
    case 'POST /api/segment':
      return segment(ctx, req, res);
    case 'POST /api/everything':
      return everything(ctx, req, res);
    case 'POST /api/save':
      return save(ctx, req, res);
    case 'POST /api/generate':
      return generate(ctx, req, res);
    default: {
      if (req.method === 'GET' && !url.pathname.startsWith('/api/')) return sendAsset(res, url.pathname.slice(1));
      const known = ['/api/health', '/api/openapi.json', '/api/models', '/api/images', '/api/image', '/api/session', '/api/prepare', '/api/segment', '/api/everything', '/api/save', '/api/generate'];
      if (known.includes(url.pathname)) throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
      throw new HttpError(404, `no such endpoint: ${url.pathname} (see /api/openapi.json)`);
    }
  }
}

async function sendAsset(res: ServerResponse, name: string): Promise<void> {
  const asset = await pageAsset(name);
  if (!asset) throw new HttpError(404, `no such file: /${name}`);
  sendBytes(res, asset.type, asset.body, {
    'cache-control': 'no-cache',
    // The page loads nothing from elsewhere: it works offline and cannot leak the token.
    'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
  });
}

async function modelsAnswer(ctx: Context) {
  const main = (await ctx.main).limits;
  return {
    serving: main,
    models: loadRegistry().map((e) => ({ name: e.name, family: e.family, description: e.description, installed: isInstalled(e) })),
  };
}

/** The image a request names: a served image by name, or one sent as base64 bytes. */
async function requestImage(ctx: Context, body: Record<string, unknown>): Promise<{ name: string; key: string; image: LoadedImage }> {
  if (typeof body.image_data === 'string') {
    const bytes = Buffer.from(body.image_data, 'base64');
    if (bytes.length === 0) throw new HttpError(400, 'image_data: expected the base64 bytes of an image file');
    const name = typeof body.image_name === 'string' ? body.image_name : 'uploaded image';
    const { key, image } = ctx.images.bytes(name, bytes);
    return { name, key, image: await image };
  }
  if (!ctx.folder) throw new HttpError(400, 'image: this server serves no folder; send the image as image_data (base64)');
  const served = await servedImage(ctx.folder, body.image);
  return { name: served.name, key: served.path, image: await ctx.images.file(served.name, served.path) };
}

async function objectBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const body = await readJson(req, limit);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'request body: expected a JSON object');
  return body as Record<string, unknown>;
}

async function requestModel(ctx: Context, body: Record<string, unknown>): Promise<OpenModel> {
  if (body.model === undefined) return ctx.main;
  if (typeof body.model !== 'string') throw new HttpError(400, 'model: expected a model name');
  return ctx.pool.get(body.model);
}

async function sendImage(ctx: Context, res: ServerResponse, name: string | null): Promise<void> {
  if (!ctx.folder) throw new HttpError(404, 'this server serves no folder');
  const served = await servedImage(ctx.folder, name);
  const image = await ctx.images.file(served.name, served.path);
  // Decoded and re-encoded: the page sees the pixels the model sees (EXIF orientation
  // applied, any format sharp reads), whatever the browser supports.
  const jpeg = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).jpeg({ quality: 92 }).toBuffer();
  sendBytes(res, 'image/jpeg', jpeg, { 'cache-control': 'private, max-age=300', 'x-image-width': String(image.width), 'x-image-height': String(image.height) });
}

async function prepare(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await objectBody(req, ctx.options.maxBody);
  const model = await requestModel(ctx, body);
  const { image } = await requestImage(ctx, body);
  const started = performance.now();
  await ctx.queue.run(() => model.segmenter.embed(image));
  sendJson(res, 200, { width: image.width, height: image.height, ms: Math.round(performance.now() - started) });
}

async function segment(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await objectBody(req, ctx.options.maxBody);
  const model = await requestModel(ctx, body);
  const set = promptSetFromJson(body.prompt);
  const multimask = body.multimask === true;
  const side = body.preview_side;
  if (side !== undefined && !(Number.isInteger(side) && (side as number) >= 16)) throw new HttpError(400, 'preview_side: expected a whole number of pixels >= 16');
  const { name, key, image } = await requestImage(ctx, body);
  const renderSize = side === undefined || !model.segmenter.pipeline.adapter ? undefined : previewSize(image, side as number);
  const result = await ctx.queue.run(() => answerPrompt(model, image, key, set, { multimask, ...(renderSize ? { renderSize } : {}) }, ctx.refinements));
  sendJson(res, 200, { image: name, width: image.width, height: image.height, model: model.limits, best: result.best.index, masks: answerRecords(name, set, result, multimask) });
}

async function everything(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await objectBody(req, ctx.options.maxBody);
  const model = await requestModel(ctx, body);
  const { name, image } = await requestImage(ctx, body);
  const grid = body.grid;
  if (grid !== undefined && !(Number.isInteger(grid) && (grid as number) >= 1 && (grid as number) <= 64)) throw new HttpError(400, 'grid: expected a whole number 1..64');
  const options = grid !== undefined && model.segmenter.pipeline.adapter ? { pointsPerSide: grid as number } : {};
  sendJson(res, 200, await ctx.queue.run(() => everythingDocument(model, image, name, options)));
}

async function save(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!ctx.session || !ctx.folder) throw new HttpError(400, 'this server serves no folder: there is nothing to save into');
  const body = await objectBody(req, ctx.options.maxBody);
  const served = await servedImage(ctx.folder, body.image);
  if (!Array.isArray(body.objects)) throw new HttpError(400, 'objects: expected a list of {category, prompt}');
  const objects: SessionObject[] = body.objects.map((o: unknown, i: number) => {
    const { category, prompt } = (o ?? {}) as Record<string, unknown>;
    if (typeof category !== 'string' || category.trim() === '') throw new HttpError(400, `objects[${i}].category: expected a non-empty name`);
    // Checked now, so a bad object refuses the save before anything is written.
    promptSetFromJson(prompt, `objects[${i}].prompt`);
    return { category, prompt: prompt as Record<string, unknown> };
  });
  const categories = Array.isArray(body.categories) ? body.categories : [];
  if (!categories.every((c) => typeof c === 'string' && c.trim() !== '')) throw new HttpError(400, 'categories: expected a list of names');
  const { segmenter } = await ctx.main;
  const image = await ctx.images.file(served.name, served.path);
  const result = await ctx.queue.run(() => ctx.session!.save(segmenter, served.name, image, objects, categories as string[]));
  sendJson(res, 200, result);
}

async function generate(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    await generateOsam(ctx, req, res);
  } catch (err) {
    // osam's clients read FastAPI's `detail`; a bad image or prompt is osam's ValueError (400).
    if (err instanceof OsamError || (err instanceof HttpError && err.status !== 400)) throw err;
    const { status, message } = errorAnswer(err);
    throw new OsamError(status, { detail: message });
  }
}

async function generateOsam(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let request;
  try {
    request = parseOsamRequest(await readJson(req, ctx.options.maxBody));
  } catch (err) {
    if (err instanceof HttpError && err.status === 400) throw new OsamError(422, { detail: [{ type: 'json_invalid', loc: ['body'], msg: err.message, input: null }] });
    throw err;
  }
  const { osamName, samlite } = osamModel(request.model);
  const model = await ctx.pool.get(samlite);
  const { segmenter } = model;
  const prompted = segmenter.pipeline.adapter !== undefined;
  const answer = await ctx.queue.run(async () => {
    let embedding: ImageEmbedding;
    if (request.embedding) {
      if (!prompted) throw new OsamError(400, { detail: `${osamName} has no image embedding to take back` });
      const e = request.embedding;
      // The masks are made at this size: the same pixel limit as an image sent whole.
      const limit = resolveMaxPixels(ctx.options.maxPixels);
      if (e.width * e.height > limit) {
        throw new OsamError(422, { detail: [{ type: 'value_error', loc: ['body', 'image_embedding', 'original_width'], msg: `${e.width}x${e.height} is over the pixel limit (${limit} pixels, --max-pixels)`, input: null }] });
      }
      embedding = { family: segmenter.pipeline.family, modelKey: segmenter.modelName, image: { width: e.width, height: e.height }, data: e.data, dims: [1, 256, 64, 64], ...osamExtra(osamName, e.extra, segmenter.pipeline.adapter) };
    } else if (request.image) {
      const { image } = ctx.images.bytes('image', request.image);
      embedding = await segmenter.embed(await image);
    } else {
      throw new OsamError(400, { detail: 'request.image or request.image_embedding is required' });
    }
    const prompt = request.prompt ?? centrePrompt(embedding.image);
    const result = await segmenter.segmentEmbedding(embedding, prompt);
    return { embedding, mask: result.best.mask };
  });
  const annotation = await osamAnnotation(answer.mask);
  const embeddingJson = prompted ? osamEmbeddingJson(answer.embedding, segmenter.pipeline.adapter?.extraEmbeddingKeys) : 'null';
  const body = `{"model":${JSON.stringify(osamName)},"image_embedding":${embeddingJson},"annotations":[${JSON.stringify(annotation)}]}`;
  sendBytes(res, 'application/json', Buffer.from(body), { 'cache-control': 'no-store' });
}
