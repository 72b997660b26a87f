/// <reference lib="dom" />
/**
 * The annotation page in a real Chromium, as a person uses it: hover an object and see its
 * mask, click, refine with a background click, accept with a category; the saved COCO file
 * is the one `samlite segment` writes for the same prompts. Every wait is on the page's own
 * state (data attributes it sets once a mask is drawn or a save is done), never a delay;
 * masks are checked by reading back the drawn pixels.
 *
 * Screenshots go to $SAMLITE_SCREENSHOTS when set (docs/images for the docs page).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../scripts/fixtures/index.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { chromiumAvailable, launchChromium } from './helpers/browser.js';
import { ROOT, assertBuilt, runSamlite } from './helpers/run-cli.js';

const TOKEN = 'page-test-token-0123456789';
const runs = chromiumAvailable('test/serve-page.test.ts');

describe.skipIf(!runs)('the annotation page in Chromium', () => {
  let dir: string;
  let out: string;
  let shots: string;
  let server: RunningServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;

  beforeAll(async () => {
    assertBuilt();
    if (!existsSync(join(ROOT, 'dist', 'page', 'app.js'))) throw new Error('dist/page/ is missing: run `npm run build` before these tests');
    dir = mkdtempSync(join(tmpdir(), 'samlite-page-'));
    const images = join(dir, 'images');
    out = join(dir, 'out');
    shots = process.env.SAMLITE_SCREENSHOTS ?? join(dir, 'shots');
    mkdirSync(images);
    mkdirSync(shots, { recursive: true });
    for (const f of ['box.png', 'near-colours.png']) copyFileSync(fixturePath(f), join(images, f));
    server = await startServer({
      inputs: [images],
      model: 'builtin',
      session: { outDir: out, formats: [], dataset: ['coco'] },
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      maxBody: 64 * 1024 * 1024,
      queueBound: 16,
      pipeline: {},
    });
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(`${server.url}/?token=${TOKEN}`);
    await ready('box.png');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Wait until `image` is open and no request is pending. */
  async function ready(image: string): Promise<void> {
    await page.waitForFunction((name) => document.body.dataset.image === name && document.body.dataset.state === 'ready', image);
  }

  /** The page position of image pixel (x, y). */
  async function at(x: number, y: number): Promise<[number, number]> {
    return page.evaluate(
      ([px, py]) => {
        const { view } = (window as unknown as { samlite: { state: { view: { scale: number; ox: number; oy: number } } } }).samlite.state;
        const rect = document.getElementById('stage')!.getBoundingClientRect();
        return [rect.left + view.ox + (px + 0.5) * view.scale, rect.top + view.oy + (py + 0.5) * view.scale] as [number, number];
      },
      [x, y],
    );
  }

  /** The overlay's drawn RGBA over image pixel (x, y): alpha 0 where no mask is drawn. */
  async function drawnAt(x: number, y: number): Promise<number[]> {
    const [cx, cy] = await at(x, y);
    return page.evaluate(
      ([px, py]) => {
        const canvas = document.getElementById('overlay') as HTMLCanvasElement;
        const rect = canvas.getBoundingClientRect();
        const dpr = window.devicePixelRatio || 1;
        return Array.from(canvas.getContext('2d')!.getImageData(Math.floor((px - rect.left) * dpr), Math.floor((py - rect.top) * dpr), 1, 1).data);
      },
      [cx, cy],
    );
  }

  /** Do `act`, then wait for the next mask of `kind` on screen. */
  async function afterDrawn(kind: 'hover' | 'click', act: () => Promise<void>): Promise<void> {
    const before = await page.evaluate(() => Number(document.body.dataset.drawn ?? 0));
    await act();
    await page.waitForFunction(([n, k]) => Number(document.body.dataset.drawn ?? 0) > (n as number) && document.body.dataset.lastKind === k, [before, kind] as const);
  }

  it('hovering an object shows its mask under the cursor, and nothing outside it', async () => {
    // box.png: the triangle (shape 1) on a flat background.
    await afterDrawn('hover', async () => page.mouse.move(...(await at(90, 169))));
    expect((await drawnAt(80, 180))[3]).toBeGreaterThan(0); // inside the triangle
    expect((await drawnAt(275, 96))[3]).toBe(0); // the background
    expect((await drawnAt(269, 174))[3]).toBe(0); // the rectangle
    await page.screenshot({ path: join(shots, 'serve-hover.png') });
  });

  it('click, refine with a background click, accept with a category: the saved COCO is the CLI\'s for the same prompts', async () => {
    await page.mouse.move(5, 5); // off the image: no hover preview
    await page.keyboard.press('ArrowRight');
    await ready('near-colours.png');
    // near-colours.png: shapes 1 and 2 touch and differ by 16 in red only.
    const shape1 = [70, 100] as const;
    const shape2 = [200, 150] as const;
    await afterDrawn('click', async () => page.mouse.click(...(await at(94, 119))));
    await afterDrawn('click', async () => page.mouse.click(...(await at(110, 130))));
    // Two clicks on shape 1: one object spanning both shapes (their colours are that close).
    expect((await drawnAt(...shape1))[3]).toBeGreaterThan(0);
    expect((await drawnAt(...shape2))[3]).toBeGreaterThan(0);
    const merged = Number(await page.evaluate(() => document.body.dataset.maskArea));

    // A right click on shape 2 takes it out again; the mask input carries the rest.
    await afterDrawn('click', async () => page.mouse.click(...(await at(189, 119)), { button: 'right' }));
    expect((await drawnAt(...shape1))[3]).toBeGreaterThan(0);
    expect((await drawnAt(...shape2))[3]).toBe(0);
    expect(Number(await page.evaluate(() => document.body.dataset.maskArea))).toBeLessThan(merged);
    await page.screenshot({ path: join(shots, 'serve-refine.png') });

    await page.fill('#category', 'panel');
    await page.press('#category', 'Enter');
    await page.waitForFunction(() => document.body.dataset.objects === '1' && document.body.dataset.save === 'ok');
    await page.screenshot({ path: join(shots, 'serve-accepted.png') });

    const session = JSON.parse(readFileSync(join(out, 'samlite-prompts.json'), 'utf8'));
    expect(session.categories).toEqual([{ id: 1, name: 'panel' }]);
    expect(session.images).toEqual([
      {
        image: 'near-colours.png',
        prompts: [{ category: 'panel', steps: [{ points: [[94, 119]] }, { points: [[110, 130]] }, { neg_points: [[189, 119]] }] }],
      },
    ]);
    // The CLI replays the session file: the same COCO file, byte for byte.
    const cli = join(dir, 'cli');
    const run = await runSamlite(['segment', '--prompts', join(out, 'samlite-prompts.json'), '--model', 'builtin', '--format', 'coco', '--out', cli, '--quiet'], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const pageCoco = readFileSync(join(out, 'coco.json'), 'utf8');
    expect(readFileSync(join(cli, 'coco.json'), 'utf8')).toBe(pageCoco);
    const coco = JSON.parse(pageCoco);
    expect(coco.annotations).toHaveLength(1);
    expect(coco.images[0].file_name).toBe('near-colours.png');
    expect(coco.categories).toEqual([{ id: 1, name: 'panel', supercategory: expect.any(String) }].map((c) => expect.objectContaining({ id: c.id, name: c.name })));
  });
});
