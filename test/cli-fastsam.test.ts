/**
 * FastSAM from the command line: `everything` and `segment` with the built-in model, the
 * flags that belong to one family only, and the store's commands on one-file models (pulls
 * from a loopback server only). Needs `npm run build` first (npm test does it).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveBytes, sha256, startLoopbackServer, type LoopbackServer } from './helpers/loopback-server.js';
import { ROOT, assertBuilt, jsonLines, runSamlite } from './helpers/run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'samlite-cli-fastsam-'));
const env = { HOME: work, SAMLITE_HOME: join(work, 'home') };
const samlite = (args: string[]) => runSamlite(args, { cwd: ROOT, env });
const MODEL = readFileSync(join(ROOT, 'models', 'builtin', 'builtin-fastsam.onnx'));
let server: LoopbackServer;

beforeAll(async () => {
  assertBuilt();
  server = await startLoopbackServer();
});
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('samlite everything / segment --model builtin-fastsam', () => {
  it('segments every fixture, one JSON line per image, SA-1B files', async () => {
    const out = join(work, 'everything');
    const run = await samlite(['everything', 'fixtures/', '--model', 'builtin-fastsam', '--out', out, '--json']);
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    const index = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'index.json'), 'utf8')) as { scenes: { image: string; shapes: unknown[] }[] };
    expect(lines).toHaveLength(index.scenes.length);
    for (const scene of index.scenes) {
      const line = lines.find((l) => l.image === `fixtures/${scene.image}`);
      // Every shape and the background (the built-in scenes' near-colour pair adds its union).
      expect(line?.masks, scene.image).toBeGreaterThanOrEqual(scene.shapes.length + 1);
    }
    const doc = JSON.parse(readFileSync(join(out, 'landscape.json'), 'utf8'));
    expect(doc.annotations[0]).toMatchObject({ point_coords: [], crop_box: [0, 0, 320, 240], stability_score: 1 });
    expect(doc.annotations[0].predicted_iou).toBeGreaterThan(0.4);
    expect(run.stderr).toMatch(/5 images done \(\d+ masks\) in [\d.]+ s with builtin-fastsam\n$/);
  });

  it('selects with a foreground and a background click', async () => {
    const out = join(work, 'segment');
    // Shape 1 of near-colours (13200 px) and its near-coloured neighbour, shape 2.
    const run = await samlite(['segment', 'fixtures/near-colours.png', '--model', 'builtin-fastsam', '--point', '94,119', '--neg-point', '189,119', '--out', out, '--json']);
    expect(run.code).toBe(0);
    const [record] = jsonLines(run.stdout);
    expect(record.bbox).toEqual([40, 60, 110, 120]);
    expect(Math.abs((record.area as number) - 13200)).toBeLessThan(100);
    expect(existsSync(join(out, 'near-colours.0.mask.png'))).toBe(true);
    // The score FastSAM gives a mask is its detector's, and the human line says so.
    expect(run.stderr).toMatch(/^fixtures\/near-colours\.png prompt 0: \d+ px, detection score \d\.\d{3} → /m);
  });

  it('--multimask --skip-existing counts an image done when FastSAM wrote fewer than three candidates', async () => {
    const out = join(work, 'multimask-skip');
    const args = ['segment', 'fixtures/near-colours.png', '--model', 'builtin-fastsam', '--point', '94,119', '--multimask', '--out', out];
    const first = await samlite(args);
    expect(first.code).toBe(0);
    // The merged answer and one candidate: FastSAM has no third mask to offer here.
    expect(existsSync(join(out, 'near-colours.0.m1.mask.png'))).toBe(true);
    expect(existsSync(join(out, 'near-colours.0.m2.mask.png'))).toBe(false);
    const again = await samlite([...args, '--skip-existing']);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('nothing to do: 1 image already done\n');
  });

  it.each([
    [['everything', 'fixtures/box.png', '--model', 'builtin-fastsam', '--grid', '16'], 'error: --grid does not apply to fastsam model builtin-fastsam (one forward pass finds every mask; there is no prompt grid)\n'],
    [['segment', 'fixtures/box.png', '--model', 'builtin', '--point', '5,5', '--conf', '0.3'], 'error: --conf applies to fastsam models only; builtin is a sam model\n'],
    [['everything', 'fixtures/box.png', '--model', 'builtin-fastsam', '--iou', '1.5'], 'error: --iou "1.5": expected a number from 0 to 1\n'],
    [['everything', 'fixtures/box.png', '--model', 'builtin-fastsam', '--imgsz', '1000'], 'error: --imgsz "1000": expected a multiple of 32 from 32 to 4096\n'],
    [['everything', 'fixtures/box.png', '--model', 'builtin-fastsam', '--imgsz', '640'], 'error: model builtin-fastsam: builtin-fastsam.onnx fixes its input at 1024x1024, so imgsz 640 cannot apply\n'],
  ])('exits 2 with one line: %j', async (args, message) => {
    const run = await samlite([...args, '--out', join(work, 'refused')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(message);
  });
});

describe('samlite models with one-file models', () => {
  it('lists and describes fastsam-s as AGPL-3.0 and says so on pull', async () => {
    // Piped, models list prints JSON lines.
    const list = jsonLines((await samlite(['models', 'list'])).stdout);
    const fastsamS = list.find((row) => row.name === 'fastsam-s')!;
    expect(fastsamS).toMatchObject({ family: 'fastsam', installed: false, license: 'AGPL-3.0' });
    expect((fastsamS.size as number) / 1e6).toBeCloseTo(47.3, 1);
    expect(list.find((row) => row.name === 'builtin-fastsam')).toMatchObject({ family: 'fastsam', builtin: true, installed: true, license: 'Apache-2.0' });
    expect((await samlite(['models', 'info', 'fastsam-s'])).stdout).toMatch(/^license: +AGPL-3\.0$/m);
    server.route('/empty-mirror/FastSam-S.onnx', (_req, res) => res.writeHead(404).end());
    const pull = await samlite(['models', 'pull', 'fastsam-s', '--mirror', server.url('/empty-mirror/')]);
    expect(pull.code).not.toBe(0);
    expect(pull.stderr.split('\n')[0]).toBe("fastsam-s: FastSAM's weights are AGPL-3.0, unlike samlite (Apache-2.0): whether that suits your use is yours to check");
  });

  it('pulls, verifies, describes and removes a one-file manifest model', async () => {
    server.route('/fastsam/model.onnx', (req, res) => serveBytes(req, res, MODEL));
    const manifest = join(work, 'my-fastsam.json');
    writeFileSync(
      manifest,
      JSON.stringify({ name: 'my-fastsam', family: 'fastsam', license: 'AGPL-3.0', files: { model: { url: server.url('/fastsam/model.onnx'), size: MODEL.length, sha256: sha256(MODEL) } } }),
    );
    const pull = await samlite(['models', 'pull', manifest]);
    expect(pull.code).toBe(0);
    expect(readFileSync(join(work, 'home', 'models', 'my-fastsam', 'model.onnx')).equals(MODEL)).toBe(true);
    expect((await samlite(['models', 'verify', 'my-fastsam'])).code).toBe(0);
    const info = await samlite(['models', 'info', 'my-fastsam']);
    expect(info.stdout).toMatch(/^model:\n/m);
    expect(info.stdout).toMatch(/output0 +float32 +\[1, 37, 21504\]/);
    const segment = await samlite(['segment', 'fixtures/box.png', '--model', 'my-fastsam', '--box', '0,0,320,240', '--out', join(work, 'mine'), '--json']);
    expect(segment.code).toBe(0);
    expect((await samlite(['models', 'rm', 'my-fastsam'])).code).toBe(0);
    expect(existsSync(join(work, 'home', 'models', 'my-fastsam'))).toBe(false);
  });
});
