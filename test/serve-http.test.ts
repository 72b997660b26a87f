/**
 * `samlite serve`'s HTTP API with the built-in models: every endpoint, osam-shaped requests,
 * bad input (each a 4xx with one line, the server still up), the token and the folder
 * boundary, the queue bound, 8 concurrent clients, and saves that resume.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, readFixtureIndex, readFixtureMask } from '../scripts/fixtures/index.js';
import { fromCocoRle, rleToMask } from '../src/masks/rle.js';
import { maskIou } from '../src/masks/iou.js';
import { startServer, type RunningServer, type ServeOptions } from '../src/server/server.js';

const TOKEN = 'http-test-token-0123456789';
let dir: string;
let images: string;
let out: string;
let server: RunningServer;

function options(overrides: Partial<ServeOptions> = {}): ServeOptions {
  return {
    inputs: [images],
    model: 'builtin',
    session: { outDir: out, formats: ['mask'], dataset: ['coco', 'labelme'] },
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    maxBody: 8 * 1024 * 1024,
    queueBound: 4,
    pipeline: {},
    ...overrides,
  };
}

/** One HTTP request with full control of the headers; resolves to status, headers and body. */
function request(
  base: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; json: () => any }> {
  return new Promise((resolve, reject) => {
    // A connection per request: a kept-alive socket the server closes while the next request
    // is being sent is a client's race, not the server's answer.
    const req = httpRequest(`${base}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body: data, json: () => JSON.parse(data.toString('utf8')) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const auth = { authorization: `Bearer ${TOKEN}` };
const asJson = { ...auth, 'content-type': 'application/json' };
const get = (path: string, headers: Record<string, string> = auth) => request(server.url, 'GET', path, undefined, headers);
const post = (path: string, value: unknown, headers: Record<string, string> = asJson) => request(server.url, 'POST', path, typeof value === 'string' ? value : JSON.stringify(value), headers);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samlite-serve-'));
  images = join(dir, 'images');
  out = join(dir, 'out');
  mkdirSync(join(images, 'sub'), { recursive: true });
  for (const f of ['landscape.png', 'box.png', 'exif-orientation-6.jpg']) copyFileSync(fixturePath(f), join(images, f));
  copyFileSync(fixturePath('portrait.png'), join(images, 'sub', 'portrait.png'));
  // A link inside the folder to an image outside it, and a secret beside the folder.
  copyFileSync(fixturePath('near-colours.png'), join(dir, 'outside.png'));
  symlinkSync(join(dir, 'outside.png'), join(images, 'escape.png'));
  writeFileSync(join(dir, 'secret.txt'), 'not for clients');
  server = await startServer(options());
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('token, host and folder boundary', () => {
  it('no token is 401, a wrong one 403, the right one passes; the page URL sets a cookie', async () => {
    const none = await get('/api/health', {});
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect(none.json().error).toMatch(/needs its token/);
    expect((await get('/api/health', { authorization: 'Bearer wrong' })).status).toBe(403);
    expect((await get('/api/health', { authorization: 'Basic abc' })).status).toBe(403);
    expect((await get(`/api/health?token=wrong`, {})).status).toBe(403);
    const ok = await get('/api/health');
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, model: 'builtin', queue: { bound: 4 } });

    const page = await get(`/?token=${TOKEN}`, {});
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/');
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toMatch(/^samlite_token=.+; Path=\/; HttpOnly; SameSite=Strict$/);
    const withCookie = await get('/', { cookie: cookie.split(';')[0] });
    expect(withCookie.status).toBe(200);
    expect(withCookie.headers['content-type']).toContain('text/html');
    expect(withCookie.headers['content-security-policy']).toContain("default-src 'self'");
    expect((await get('/app.js', { cookie: cookie.split(';')[0] })).status).toBe(200);
  });

  it('answers only requests addressed to this machine (no DNS rebinding)', async () => {
    const res = await get('/api/health', { ...auth, host: 'evil.example:80' });
    expect(res.status).toBe(403);
    expect(res.json().error).toMatch(/not this machine/);
  });

  it.each([
    ['..', '../secret.txt', 400, 'paths must stay inside the served folder'],
    ['a .. inside the name', 'sub/../../secret.txt', 400, 'paths must stay inside the served folder'],
    ['absolute', '/etc/passwd', 400, 'paths must stay inside the served folder'],
    ['a link out of the folder', 'escape.png', 400, 'a link that leaves the served folder'],
    ['unknown', 'nope.png', 404, 'not among the served images'],
  ])('a path that is %s is refused', async (_what, name, status, message) => {
    for (const res of [await get(`/api/image?name=${encodeURIComponent(name)}`), await post('/api/segment', { image: name, prompt: { points: [[1, 1]] } })]) {
      expect(res.status).toBe(status);
      expect(res.json().error).toContain(message);
    }
  });

  it('lists the images inside the folder only (sub-folders by their path, not the link out)', async () => {
    expect((await get('/api/images')).json().images).toEqual(['box.png', 'exif-orientation-6.jpg', 'landscape.png', 'sub/portrait.png']);
  });

  it('CORS is off unless asked: no Access-Control-Allow-Origin', async () => {
    const res = await get('/api/health', { ...auth, origin: 'http://elsewhere.example' });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('--no-token is refused on another host than loopback', async () => {
    await expect(startServer(options({ token: undefined, host: '0.0.0.0' }))).rejects.toThrow('--no-token is allowed on loopback only');
  });
});

describe("samlite's API", () => {
  it('the OpenAPI document names every endpoint', async () => {
    const doc = (await get('/api/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/api/everything', '/api/generate', '/api/health', '/api/image', '/api/images', '/api/models', '/api/openapi.json', '/api/prepare', '/api/save', '/api/segment', '/api/session'].sort(),
    );
  });

  it('models: the catalog and what the served model can do', async () => {
    const body = (await get('/api/models')).json();
    expect(body.serving).toEqual({ name: 'builtin', family: 'sam', backgroundPoints: true, maxPoints: null, refines: true, selects: false });
    expect(body.models.find((m: { name: string }) => m.name === 'builtin-efficientsam')).toMatchObject({ family: 'efficientsam', installed: true });
  });

  it('image: the pixels the model sees, EXIF orientation applied', async () => {
    const res = await get('/api/image?name=exif-orientation-6.jpg');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    const meta = await sharp(res.body).metadata();
    expect([meta.width, meta.height]).toEqual([320, 240]);
  });

  it("segment: a click answers with the CLI's record, the fixture object's mask", async () => {
    const index = await readFixtureIndex();
    const shape = index.scenes.find((s) => s.name === 'landscape')!.shapes.find((s) => s.id === 4)!;
    const res = await post('/api/segment', { image: 'landscape.png', prompt: { points: [[shape.interiorPoint.x, shape.interiorPoint.y]] } });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ image: 'landscape.png', width: 320, height: 240 });
    expect(body.masks).toHaveLength(1);
    const record = body.masks[0];
    expect(record).toMatchObject({ image: 'landscape.png', prompt_index: 0, prompt: { points: [[64, 60]] }, width: 320, height: 240 });
    const mask = rleToMask(fromCocoRle(record.segmentation));
    expect(maskIou(mask, await readFixtureMask(shape.mask))).toBeGreaterThan(0.95);
    expect(record.area).toBe(mask.data.reduce((a: number, b: number) => a + b, 0));
  });

  it('segment: candidates with their mask index, a preview size, steps', async () => {
    const multi = (await post('/api/segment', { image: 'landscape.png', prompt: { points: [[64, 60]] }, multimask: true })).json();
    expect(multi.masks.map((m: { mask_index: number }) => m.mask_index)).toEqual([1, 2, 3]);
    expect(multi.masks.map((m: { mask_index: number }) => m.mask_index)).toContain(multi.best);
    const preview = (await post('/api/segment', { image: 'landscape.png', prompt: { points: [[64, 60]] }, preview_side: 160 })).json();
    expect(preview.masks[0].segmentation.size).toEqual([120, 160]);
    const steps = { steps: [{ points: [[64, 60]] }, { neg_points: [[196, 67]], mask_index: 0 }] };
    const stepped = (await post('/api/segment', { image: 'landscape.png', prompt: steps })).json();
    expect(stepped.masks[0].prompt).toEqual(steps);
  });

  it('segment on uploaded bytes', async () => {
    const res = await post('/api/segment', { image_data: readFileSync(fixturePath('box.png')).toString('base64'), image_name: 'mine.png', prompt: { points: [[269, 174]] } });
    expect(res.status).toBe(200);
    expect(res.json().masks[0]).toMatchObject({ image: 'mine.png', area: 4200 });
  });

  it('everything: the SA-1B document `samlite everything` writes', async () => {
    const doc = (await post('/api/everything', { image: 'box.png', grid: 8 })).json();
    expect(doc.image).toEqual({ image_id: 'box', width: 320, height: 240, file_name: 'box.png' });
    expect(doc.annotations.length).toBeGreaterThanOrEqual(3);
    expect(doc.annotations[0]).toHaveProperty('stability_score');
  });

  it('prepare computes the embedding ahead of the clicks', async () => {
    const res = await post('/api/prepare', { image: 'sub/portrait.png' });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ width: 240, height: 320 });
  });

  it.each([
    ['malformed JSON', '{"image": ', asJson, 400, 'request body is not valid JSON'],
    ['not JSON', 'image=box.png', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, 415, 'expected an application/json body'],
    ['a list', '[]', asJson, 400, 'request body: expected a JSON object'],
    ['no prompt', '{"image": "box.png"}', asJson, 400, 'prompt: expected an object'],
    ['a point outside the image', '{"image": "box.png", "prompt": {"points": [[400, 10]]}}', asJson, 400, 'point (400, 10) is outside the 320x240 image'],
    ['a reversed box', '{"image": "box.png", "prompt": {"box": [50, 50, 10, 10]}}', asJson, 400, 'prompt: box'],
    ['a bad preview size', '{"image": "box.png", "prompt": {"points": [[1, 1]]}, "preview_side": 2}', asJson, 400, 'preview_side'],
    ['a mask index no candidate has', '{"image": "box.png", "prompt": {"points": [[1, 1]], "mask_index": 7}}', asJson, 400, 'mask index 7 is not a candidate'],
    ['an unknown model', '{"image": "box.png", "model": "nope", "prompt": {"points": [[1, 1]]}}', asJson, 400, 'unknown model "nope"'],
  ])('segment with %s: a 4xx and one line', async (_what, body, headers, status, message) => {
    const res = await request(server.url, 'POST', '/api/segment', body, headers);
    expect(res.status).toBe(status);
    const { error } = res.json();
    expect(error).toContain(message);
    expect(error).not.toContain('\n');
    expect((await get('/api/health')).status).toBe(200);
  });

  it('a body over --max-body is 413; an image over the pixel limit is 400 naming it', async () => {
    const big = await post('/api/segment', { image_data: 'A'.repeat(9 * 1024 * 1024), prompt: { points: [[1, 1]] } });
    expect(big.status).toBe(413);
    expect(big.json().error).toContain('over the limit of 8388608 bytes (--max-body)');
    const bomb = await post('/api/segment', { image_data: readFileSync(fixturePath('bad/bomb.png')).toString('base64'), image_name: 'bomb.png', prompt: { points: [[1, 1]] } });
    expect(bomb.status).toBe(400);
    expect(bomb.json().error).toBe('bomb.png: 20000x20000 = 400.0 MP is over the pixel limit of 100 MP (--max-pixels)');
    const junk = await post('/api/segment', { image_data: Buffer.from('not an image').toString('base64'), image_name: 'junk.png', prompt: { points: [[1, 1]] } });
    expect(junk.status).toBe(400);
    expect(junk.json().error).toBe('junk.png: not an image (unrecognised format)');
  });

  it('unknown endpoints are 404, wrong methods 405', async () => {
    expect((await get('/api/nope')).status).toBe(404);
    expect((await get('/api/segment')).status).toBe(405);
    expect((await get('/../../etc/passwd')).status).toBe(404);
  });
});

describe('the queue', () => {
  it('answers 429 once `bound` requests wait, and serves them all once the model is free', async () => {
    // Hold the model with a job of our own, fill the queue, then release it.
    let release!: () => void;
    const held = server.queue.run(() => new Promise<void>((r) => (release = r)));
    const waiting = Array.from({ length: 4 }, () => post('/api/segment', { image: 'box.png', prompt: { points: [[269, 174]] } }));
    await new Promise<void>((resolve) => {
      const check = () => (server.queue.stats().waiting === 4 ? resolve() : setImmediate(check));
      check();
    });
    const refused = await post('/api/segment', { image: 'box.png', prompt: { points: [[269, 174]] } });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json().error).toContain('the inference queue is full');
    release();
    await held;
    for (const res of await Promise.all(waiting)) expect(res.status).toBe(200);
  });

  // 1600 requests: on a busy machine they take minutes, which is this test's budget, not its subject.
  it('8 clients x 200 mixed requests: every one answered, retried 429s included, the bound never passed', { timeout: 900_000 }, async () => {
    const points = [[64, 60], [196, 67], [156, 138]] as const;
    const expected = new Map<string, number>();
    for (const [x, y] of points) expected.set(`${x},${y}`, (await post('/api/segment', { image: 'landscape.png', prompt: { points: [[x, y]] } })).json().masks[0].area);
    const before = server.queue.stats();
    const counts = { ok: 0, retried: 0 };
    const client = async (c: number) => {
      for (let i = 0; i < 200; i++) {
        const kind = (c + i) % 4;
        const [x, y] = points[(c * 7 + i) % points.length];
        for (;;) {
          const res =
            kind === 0
              ? await get('/api/health')
              : kind === 1
                ? await get('/api/images')
                : kind === 2
                  ? await get('/api/session')
                  : await post('/api/segment', { image: 'landscape.png', prompt: { points: [[x, y]] } });
          if (res.status === 429) {
            counts.retried++;
            continue;
          }
          expect(res.status).toBe(200);
          if (kind === 3) expect(res.json().masks[0].area).toBe(expected.get(`${x},${y}`));
          counts.ok++;
          break;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
    expect(counts.ok).toBe(1600);
    const after = server.queue.stats();
    expect(after.peakWaiting).toBeLessThanOrEqual(after.bound);
    expect(after.refused - before.refused).toBe(counts.retried);
    expect(after.done - before.done).toBe(400);
  });
});

describe("osam's API (requests as osam's README and types build them)", () => {
  const landscape = () => readFileSync(fixturePath('landscape.png')).toString('base64');

  it("{model, image} as osam's README posts it: the centre click's mask, cropped to osam's box", async () => {
    const res = await post('/api/generate', { model: 'builtin', image: landscape() }, { ...auth, 'content-type': 'application/json', accept: 'application/json' });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['model', 'image_embedding', 'annotations']);
    expect(body.model).toBe('builtin');
    expect(body.image_embedding).toMatchObject({ original_height: 240, original_width: 320, extra_features: [] });
    expect([body.image_embedding.embedding.length, body.image_embedding.embedding[0].length, body.image_embedding.embedding[0][0].length]).toEqual([256, 64, 64]);
    expect(body.annotations).toHaveLength(1);
    expect(Object.keys(body.annotations[0])).toEqual(['bounding_box', 'text', 'score', 'mask']);
    expect(body.annotations[0]).toMatchObject({ text: null, score: null });
  });

  it("a point prompt as osam's Prompt serialises it; the box and crop follow imgviz and osam", async () => {
    const prompt = { points: [[64.0, 60.0]], point_labels: [1], texts: null, iou_threshold: 0.5, score_threshold: 0.1, max_annotations: 100 };
    const body = (await post('/api/generate', { model: 'builtin', image_embedding: null, image: landscape(), prompt, annotations: null })).json();
    // Shape 4 spans x 28..101, y 17..103: imgviz's box ends one past it, osam crops to it inclusive.
    const a = body.annotations[0];
    expect(a.bounding_box).toEqual({ xmin: 28, ymin: 17, xmax: 102, ymax: 104 });
    const png = Buffer.from(a.mask, 'base64');
    expect((await sharp(png).metadata()).channels).toBe(1); // 8-bit grey, as PIL writes mode L
    const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([75, 88]);
    expect(data[0]).toBe(255);
    expect(data[info.width - 1]).toBe(0); // the column past the object
    expect(data[(info.height - 1) * info.width]).toBe(0); // the row past it

    // The embedding sent back with a box (labels 2, 3) decodes without the image.
    const again = await post('/api/generate', { model: 'builtin', image_embedding: body.image_embedding, image: null, prompt: { points: [[20, 10], [110, 110]], point_labels: [2, 3] }, annotations: null });
    expect(again.status).toBe(200);
    expect(again.json().annotations[0].bounding_box).toEqual({ xmin: 28, ymin: 17, xmax: 102, ymax: 104 });
  });

  it("SAM 2's embedding goes out and comes back with its extra_features as osam's types serialise them", async () => {
    const prompt = { points: [[64, 60]], point_labels: [1] };
    // Its embedding is about 35-40 MB as JSON with real weights: a server with the default --max-body (64Mi).
    const big = await startServer(options({ maxBody: 64 * 1024 * 1024 }));
    const post = (path: string, value: unknown) => request(big.url, 'POST', path, JSON.stringify(value), asJson);
    try {
      const first = await post('/api/generate', { model: 'builtin-sam2', image: landscape(), prompt });
      expect(first.status).toBe(200);
      const { image_embedding: embedding, annotations } = first.json();
      // osam's _ndarray_to_json: the batch axis dropped, dtype by name, the raw bytes in base64.
      expect(embedding.extra_features.map((f: { shape: number[]; dtype: string; data: string }) => [f.shape, f.dtype, Buffer.from(f.data, 'base64').length])).toEqual([
        [[32, 256, 256], 'float32', 32 * 256 * 256 * 4],
        [[64, 128, 128], 'float32', 64 * 128 * 128 * 4],
      ]);
      const again = await post('/api/generate', { model: 'builtin-sam2', image_embedding: embedding, image: null, prompt });
      expect(again.status).toBe(200);
      expect(again.json().annotations).toEqual(annotations);

      const without = await post('/api/generate', { model: 'builtin-sam2', image_embedding: { ...embedding, extra_features: [] }, prompt });
      expect(without.status).toBe(400);
      expect(without.json().detail).toContain('extra_features must hold 2 arrays');
      const swapped = [embedding.extra_features[1], embedding.extra_features[0]];
      const misshapen = await post('/api/generate', { model: 'builtin-sam2', image_embedding: { ...embedding, extra_features: swapped }, prompt });
      expect(misshapen.status).toBe(400);
      expect(misshapen.json().detail).toContain('extra_features[0] (high_res_features1) has shape [64,128,128]');
      const short = await post('/api/generate', { model: 'builtin-sam2', image_embedding: { ...embedding, extra_features: [{ ...embedding.extra_features[0], data: 'AAAA' }, embedding.extra_features[1]] }, prompt });
      expect(short.status).toBe(422);
      expect(short.json().detail[0].loc).toEqual(['body', 'image_embedding', 'extra_features', 0]);
      expect((await request(big.url, 'GET', '/api/health', undefined, auth)).status).toBe(200);
    } finally {
      await big.close();
    }
  });

  it("errors in osam's shapes: an unknown model, a bad prompt, no image", async () => {
    const unknown = await post('/api/generate', { model: 'nope', image: landscape() });
    expect([unknown.status, unknown.json()]).toEqual([400, { detail: "Model 'nope' not found." }]);
    const notInstalled = await post('/api/generate', { model: 'efficientsam:10m', image: landscape() });
    expect(notInstalled.status).toBe(400);
    expect(notInstalled.json().detail).toContain('efficientsam-ti is not installed');
    const badLabels = await post('/api/generate', { model: 'builtin', image: landscape(), prompt: { points: [[1, 1]], point_labels: [7] } });
    expect(badLabels.status).toBe(422);
    expect(badLabels.json().detail[0].msg).toContain('point_labels must contain only 0, 1, 2, or 3');
    const noImage = await post('/api/generate', { model: 'builtin' });
    expect([noImage.status, noImage.json()]).toEqual([400, { detail: 'request.image or request.image_embedding is required' }]);
    const zeros = Array.from({ length: 256 }, () => Array.from({ length: 64 }, () => new Array(64).fill(0)));
    const huge = await post('/api/generate', { model: 'builtin', image_embedding: { original_height: 1_000_000, original_width: 1_000_000, embedding: zeros, extra_features: [] } });
    expect(huge.status).toBe(422);
    expect(huge.json().detail[0].msg).toContain('over the pixel limit');
    const noModel = await post('/api/generate', { image: landscape() });
    expect(noModel.status).toBe(422);
  });
});

describe('saving and resuming', () => {
  it("save writes the --format files and the session; a new server resumes from it; deleting removes the image's files", async () => {
    const objects = [
      { category: 'box', prompt: { points: [[269, 174]] } },
      { category: 'blob', prompt: { steps: [{ points: [[189, 74]] }, { neg_points: [[90, 169]] }] } },
    ];
    const saved = await post('/api/save', { image: 'box.png', objects, categories: ['box', 'blob'] });
    expect(saved.status).toBe(200);
    const result = saved.json();
    expect(result.problems).toEqual([]);
    for (const f of ['box.0.mask.png', 'box.1.mask.png', 'box.json', 'coco.json', 'samlite-prompts.json', 'samlite-parts/box.part.json']) expect(() => readFileSync(join(out, f))).not.toThrow();
    const coco = JSON.parse(readFileSync(join(out, 'coco.json'), 'utf8'));
    expect(coco.annotations.map((a: { category_id: number; area: number }) => [a.category_id, a.area])).toEqual([[1, 4200], [2, 3704]]);

    const resumed = await startServer(options());
    try {
      const session = (await request(resumed.url, 'GET', '/api/session', undefined, auth)).json();
      expect(session.categories).toEqual([{ id: 1, name: 'box' }, { id: 2, name: 'blob' }]);
      expect(session.images['box.png']).toEqual(objects);
      // One object left: its second mask file goes, the dataset follows.
      const fewer = await request(resumed.url, 'POST', '/api/save', JSON.stringify({ image: 'box.png', objects: objects.slice(0, 1), categories: ['box', 'blob'] }), asJson);
      expect(fewer.status).toBe(200);
      expect(() => readFileSync(join(out, 'box.1.mask.png'))).toThrow();
      expect(JSON.parse(readFileSync(join(out, 'coco.json'), 'utf8')).annotations).toHaveLength(1);
      const none = await request(resumed.url, 'POST', '/api/save', JSON.stringify({ image: 'box.png', objects: [], categories: ['box', 'blob'] }), asJson);
      expect(none.status).toBe(200);
      expect(() => readFileSync(join(out, 'box.0.mask.png'))).toThrow();
      expect(() => readFileSync(join(out, 'samlite-parts/box.part.json'))).toThrow();
    } finally {
      await resumed.close();
    }
    // Every object deleted: the session keeps its categories, and the next server opens it.
    const emptied = await startServer(options());
    try {
      const session = (await request(emptied.url, 'GET', '/api/session', undefined, auth)).json();
      expect(session.categories).toEqual([{ id: 1, name: 'box' }, { id: 2, name: 'blob' }]);
      expect(session.images).toEqual({});
    } finally {
      await emptied.close();
    }
  });

  it('a session file with a byte-order mark opens; an emptied one with bad categories is refused naming them', async () => {
    const sessionIn = (text: string) => {
      const outDir = mkdtempSync(join(dir, 'session-'));
      writeFileSync(join(outDir, 'samlite-prompts.json'), text);
      return options({ session: { outDir, formats: ['mask'], dataset: ['coco'] } });
    };
    const bom = await startServer(sessionIn('\uFEFF{"images": [], "categories": [{"id": 1, "name": "car"}]}'));
    try {
      expect((await request(bom.url, 'GET', '/api/session', undefined, auth)).json().categories).toEqual([{ id: 1, name: 'car' }]);
    } finally {
      await bom.close();
    }
    await expect(startServer(sessionIn('{"images": [], "categories": [{"id": 0, "name": ""}]}'))).rejects.toThrow('categories: expected a list of {id, name}');
  });

  it('a save with a bad object writes nothing and says which', async () => {
    const res = await post('/api/save', { image: 'landscape.png', objects: [{ category: 'x', prompt: { points: [] } }] });
    expect(res.status).toBe(400);
    expect(res.json().error).toContain('objects[0].prompt');
  });
});

describe('stopping', () => {
  // The server keeps idle connections a minute; a browser holds one between clicks. Stopping
  // must not wait for it: an answer that goes out while stopping says the connection closes.
  it('close() does not wait for a kept-alive connection, even one whose answer went out while stopping', async () => {
    const own = await startServer(options());
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // A request the server has begun (it answered 100-continue) when stopping begins; its
      // body follows after close() was called.
      const answer = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = httpRequest(`${own.url}/api/segment`, { method: 'POST', headers: { ...asJson, expect: '100-continue' }, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
        });
        req.on('error', reject);
        req.on('continue', () => {
          closed = own.close();
          req.end(JSON.stringify({ image: 'landscape.png', prompt: { points: [[64, 60]] } }));
        });
        req.flushHeaders();
      });
      let closed: Promise<void> | undefined;
      expect(await answer).toEqual({ status: 200, connection: 'close' });
      await closed;
    } finally {
      agent.destroy();
    }
  });
});

describe('every family through the same server code', () => {
  it.each([
    ['builtin-efficientsam', { family: 'efficientsam', backgroundPoints: false, maxPoints: 6, refines: false, selects: false }],
    ['builtin-fastsam', { family: 'fastsam', backgroundPoints: true, maxPoints: null, refines: false, selects: true }],
    ['builtin-sam2', { family: 'sam2', backgroundPoints: true, maxPoints: null, refines: true, selects: false }],
  ])('%s: its limits for the page, and a click answered', async (model, limits) => {
    const res = await post('/api/segment', { image: 'box.png', model, prompt: { points: [[269, 174]] }, multimask: true });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.model).toEqual({ name: model, ...limits });
    expect(body.masks.length).toBeGreaterThan(0);
    expect(body.masks.map((m: { mask_index: number }) => m.mask_index)).toContain(body.best);
  });

  it('SAM 2 refines click by click through steps, as SAM does', async () => {
    const steps = { steps: [{ points: [[64, 60]] }, { neg_points: [[196, 67]], mask_index: 0 }] };
    const res = await post('/api/segment', { image: 'landscape.png', model: 'builtin-sam2', prompt: steps });
    expect(res.status).toBe(200);
    expect(res.json().masks[0].prompt).toEqual(steps);
    expect(res.json().masks[0].area).toBeGreaterThan(0);
  });

  it('EfficientSAM refuses a background point with its reason, as a 400', async () => {
    const res = await post('/api/segment', { image: 'box.png', model: 'builtin-efficientsam', prompt: { points: [[269, 174]], neg_points: [[10, 10]] } });
    expect(res.status).toBe(400);
    expect(res.json().error).toContain('background points are not supported by builtin-efficientsam');
  });
});
