import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DownloadError, InputError, InterruptedError, UsageError } from '../src/util/errors.js';
import { modelDir } from '../src/store/paths.js';
import { listModels, modelInfo, pullModel, pullModels, removeModel, verifyInstalledModels, verifyModel, type PullEvent, type PullOptions } from '../src/store/store.js';
import { resolveModel } from '../src/store/resolve.js';
import { holdRefusingOrigin, onFirstProgress, resetAfter, serveBytes, sha256, stallAfter, startLoopbackServer, type LoopbackServer } from './helpers/loopback-server.js';
import { STALL_MS, onStallClock } from './helpers/stall-clock.js';
import { tinyDecoder, tinyEncoder } from './helpers/tiny-onnx.js';

const ENCODER = Buffer.from(tinyEncoder());
const DECODER = Buffer.from(tinyDecoder());
const BIG = randomBytes(200_000);

let server: LoopbackServer;
let home: string;
let work: string;
let fast: PullOptions;

beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(async () => server.close());
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'samlite-home-'));
  work = mkdtempSync(join(tmpdir(), 'samlite-work-'));
  // No stall timeout a busy machine could reach: the stall test moves its own clock.
  fast = { home, env: {}, retries: 2, retryDelayMs: 5, maxRetryDelayMs: 20, stallTimeoutMs: 3_600_000 };
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

let routeId = 0;
/** Serve `bytes` under a fresh path named `file`; returns its URL. */
function serve(file: string, bytes: Uint8Array, handler?: Parameters<LoopbackServer['route']>[1]): string {
  const path = `/p${++routeId}/${file}`;
  server.route(path, handler ?? ((req, res) => serveBytes(req, res, bytes)));
  return server.url(path);
}

function remote(url: string, bytes: Uint8Array) {
  return { url, size: bytes.length, sha256: sha256(bytes) };
}

function manifest(content: object, name = 'model.json'): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

function urlManifest(name = 'my-sam', encoder = ENCODER, decoder = DECODER): string {
  return manifest({ name, family: 'sam', files: { encoder: remote(serve('enc.onnx', encoder), encoder), decoder: remote(serve('dec.onnx', decoder), decoder) } }, `${name}.json`);
}

describe('pullModel', () => {
  it('pulls a manifest’s url files into the store and resolves them by path and by name', async () => {
    const path = urlManifest();
    const events: PullEvent[] = [];
    const result = await pullModel(path, { ...fast, onEvent: (e) => events.push(e) });
    expect(result).toMatchObject({ name: 'my-sam', status: 'installed', downloadedBytes: ENCODER.length + DECODER.length });
    expect(readFileSync(result.files.encoder!).equals(ENCODER)).toBe(true);
    expect(readFileSync(result.files.decoder!).equals(DECODER)).toBe(true);
    expect(result.files.encoder).toBe(join(modelDir(home, 'my-sam'), 'encoder.onnx'));
    expect(events.filter((e) => e.type === 'done').map((e) => (e as { label: string }).label)).toEqual(['my-sam encoder', 'my-sam decoder']);

    const byPath = await resolveModel(path, fast);
    expect(byPath).toMatchObject({ name: 'my-sam', family: 'sam', builtin: false, source: 'manifest', files: result.files });
    expect(await resolveModel('my-sam', fast)).toEqual(byPath);
    // Nothing but the files, the record and no leftovers.
    expect(readdirSync(modelDir(home, 'my-sam')).sort()).toEqual(['decoder.onnx', 'encoder.onnx', 'installed.json']);
  });

  it('re-verifies instead of downloading again', async () => {
    const path = urlManifest();
    await pullModel(path, fast);
    const before = server.requests.length;
    const again = await pullModel(path, fast);
    expect(again).toMatchObject({ status: 'already-installed', downloadedBytes: 0 });
    expect(server.requests.length).toBe(before);
  });

  it('replaces an installed file that was changed on disk', async () => {
    const path = urlManifest();
    const first = await pullModel(path, fast);
    writeFileSync(first.files.decoder!, randomBytes(DECODER.length));
    const again = await pullModel(path, fast);
    expect(again).toMatchObject({ status: 'installed', downloadedBytes: DECODER.length });
    expect(readFileSync(first.files.decoder!).equals(DECODER)).toBe(true);
  });

  it('uses local manifest files in place and pulls only the url ones', async () => {
    writeFileSync(join(work, 'encoder.onnx'), ENCODER);
    const path = manifest({ name: 'mixed', family: 'efficientsam', files: { encoder: { path: 'encoder.onnx' }, decoder: remote(serve('d.onnx', DECODER), DECODER) } });
    await expect(resolveModel(path, fast)).rejects.toThrow(`model mixed (manifest ${path}) is not installed; run \`samlite models pull ${path}\``);
    const result = await pullModel(path, fast);
    expect(result.downloadedBytes).toBe(DECODER.length);
    const resolved = await resolveModel(path, fast);
    expect(resolved.files.encoder).toBe(join(work, 'encoder.onnx'));
    expect(resolved.family).toBe('efficientsam');
  });

  it('has nothing to do for an all-local manifest or a built-in', async () => {
    writeFileSync(join(work, 'e.onnx'), ENCODER);
    writeFileSync(join(work, 'd.onnx'), DECODER);
    const path = manifest({ name: 'local', family: 'sam', files: { encoder: { path: 'e.onnx' }, decoder: { path: 'd.onnx' } } });
    expect(await pullModel(path, fast)).toMatchObject({ status: 'local', downloadedBytes: 0 });
    expect((await resolveModel(path, fast)).files).toEqual({ encoder: join(work, 'e.onnx'), decoder: join(work, 'd.onnx') });
    expect(await pullModel('builtin', fast)).toMatchObject({ status: 'builtin' });
    expect(existsSync(join(home, 'models'))).toBe(false);
  });

  it('leaves the model uninstalled when one file fails, and names model, role and URL', async () => {
    const badUrl = serve('gone.onnx', DECODER, (_req, res) => res.writeHead(404).end());
    const path = manifest({ name: 'half', family: 'sam', files: { encoder: remote(serve('e.onnx', ENCODER), ENCODER), decoder: remote(badUrl, DECODER) } });
    const failure = pullModel(path, fast);
    await expect(failure).rejects.toBeInstanceOf(DownloadError);
    await expect(failure).rejects.toThrow(`half decoder: could not download ${badUrl}: HTTP 404 Not Found`);
    await expect(resolveModel(path, fast)).rejects.toThrow(/is not installed/);
    expect(existsSync(join(modelDir(home, 'half'), 'installed.json'))).toBe(false);
    expect(existsSync(join(modelDir(home, 'half'), 'decoder.onnx'))).toBe(false);
  });

  it('resumes a reset download and survives a stall through the store', async () => {
    // The encoder's connection is reset once it has bytes; the decoder's goes quiet after 50 kB.
    const encoder = onFirstProgress<PullEvent>();
    const encoderUrl = serve('big-e.onnx', BIG, (req, res, count) => (count === 1 ? resetAfter(res, BIG, 100_000, encoder.reached) : serveBytes(req, res, BIG)));
    const decoderUrl = serve('big-d.onnx', BIG, (req, res, count) => (count === 1 ? stallAfter(res, BIG, 50_000) : serveBytes(req, res, BIG)));
    const path = manifest({ name: 'flaky', family: 'sam', files: { encoder: remote(encoderUrl, BIG), decoder: remote(decoderUrl, BIG) } });
    const stalled = (e: PullEvent) => e.type === 'progress' && e.label === 'flaky decoder' && e.received === 50_000;
    const events = await onStallClock(stalled, (onEvent) =>
      pullModel(path, {
        ...fast,
        stallTimeoutMs: STALL_MS,
        onEvent: (e) => {
          if (e.type === 'progress' && e.label === 'flaky encoder') encoder.onEvent(e);
          onEvent(e);
        },
      }),
    );
    const retries = events.filter((e) => e.type === 'retry') as Extract<PullEvent, { type: 'retry' }>[];
    expect(retries.map((e) => e.label)).toEqual(['flaky encoder', 'flaky decoder']);
    expect(retries[1]!.reason).toMatch(/stalled/);
    const resolved = await resolveModel('flaky', fast);
    expect(readFileSync(resolved.files.encoder!).equals(BIG)).toBe(true);
    expect(readFileSync(resolved.files.decoder!).equals(BIG)).toBe(true);
  });

  it('says the network is unreachable and names --mirror', async () => {
    const refusing = await holdRefusingOrigin();
    const url = refusing.url('/e.onnx');
    const path = manifest({ name: 'offline', family: 'sam', files: { encoder: remote(url, ENCODER), decoder: remote(url, DECODER) } });
    await expect(pullModel(path, fast).finally(() => refusing.close())).rejects.toThrow(/offline encoder: could not download .*cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED.*the network looks unreachable; pull from a mirror with --mirror <url\|dir> \(or SAMLITE_MIRROR\)/);
    // Nothing was fetched, so no empty model folder is left behind.
    expect(existsSync(modelDir(home, 'offline'))).toBe(false);
  });

  it('stops at once when its signal aborts: bytes parked for the next pull, lock released', async () => {
    const url = serve('slow.onnx', BIG, (_req, res) => stallAfter(res, BIG, 60_000));
    const path = manifest({ name: 'stopped', family: 'sam', files: { encoder: remote(url, BIG), decoder: remote(serve('d.onnx', DECODER), DECODER) } });
    const controller = new AbortController();
    const outcomes = pullModels([path, urlManifest('never-reached')], {
      ...fast,
      onEvent: (e) => {
        // Ctrl-C once the server went quiet: progress counts bytes already in the partial file.
        if (e.type === 'progress' && e.received === 60_000) controller.abort();
      },
      signal: controller.signal,
    });
    const [only, ...rest] = await outcomes;
    expect(rest).toEqual([]);
    expect(only.ok).toBe(false);
    const error = (only as { error: unknown }).error;
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as Error).message).toBe('stopped encoder: interrupted at 60000 of 200000 bytes; the 60000 bytes received are kept and the next pull resumes from there');
    expect(readdirSync(modelDir(home, 'stopped'))).toEqual([`.encoder.onnx.${sha256(BIG).slice(0, 12)}.partial`]);
  });

  it('pulls from a mirror folder by upstream file name, still checking the hash', async () => {
    const upstream = 'https://upstream.invalid/releases/v1';
    const path = manifest({ name: 'mirrored', family: 'sam', files: { encoder: remote(`${upstream}/enc.onnx`, ENCODER), decoder: remote(`${upstream}/dec.onnx`, DECODER) } });
    const mirror = join(work, 'mirror');
    mkdirSync(mirror);
    writeFileSync(join(mirror, 'enc.onnx'), ENCODER);
    writeFileSync(join(mirror, 'dec.onnx'), randomBytes(DECODER.length));
    await expect(pullModel(path, { ...fast, mirror })).rejects.toThrow(`mirrored decoder: mirror file ${join(mirror, 'dec.onnx')} does not match`);
    expect(existsSync(join(modelDir(home, 'mirrored'), 'decoder.onnx'))).toBe(false);

    writeFileSync(join(mirror, 'dec.onnx'), DECODER);
    // SAMLITE_MIRROR works the same as the option.
    expect(await pullModel(path, { ...fast, env: { SAMLITE_MIRROR: mirror } })).toMatchObject({ status: 'installed' });
    expect(readFileSync((await resolveModel('mirrored', fast)).files.decoder!).equals(DECODER)).toBe(true);
  });

  it('pulls from a mirror URL by upstream file name', async () => {
    const upstream = 'https://upstream.invalid/a/b';
    const path = manifest({ name: 'mirror-url', family: 'sam', files: { encoder: remote(`${upstream}/mirror-enc.onnx`, ENCODER), decoder: remote(`${upstream}/mirror-dec.onnx`, DECODER) } });
    server.route('/mirror/mirror-enc.onnx', (req, res) => serveBytes(req, res, ENCODER));
    server.route('/mirror/mirror-dec.onnx', (req, res) => serveBytes(req, res, DECODER));
    await pullModel(path, { ...fast, mirror: server.url('/mirror') });
    expect(server.requestsFor('/mirror/mirror-enc.onnx')).toHaveLength(1);
    expect(server.requestsFor('/mirror/mirror-dec.onnx')).toHaveLength(1);
  });

  it('rejects a mirror folder that does not exist', async () => {
    await expect(pullModel(urlManifest(), { ...fast, mirror: join(work, 'nope') })).rejects.toThrow(/--mirror .*nope: folder .* not found/);
  });

  it('serialises two concurrent pulls of one model with the lock', async () => {
    // The lock holder's encoder is served only once the other pull is seen waiting for the
    // lock: the two meet there, whichever starts first and however busy the machine.
    let seenWaiting!: () => void;
    const waiting = new Promise<void>((resolve) => (seenWaiting = resolve));
    const encoderUrl = serve('enc.onnx', ENCODER, (req, res) => void waiting.then(() => serveBytes(req, res, ENCODER)));
    const path = manifest({ name: 'twice', family: 'sam', files: { encoder: remote(encoderUrl, ENCODER), decoder: remote(serve('dec.onnx', DECODER), DECODER) } }, 'twice.json');
    const before = server.requests.length;
    const waited: string[] = [];
    const pull = (who: string) =>
      pullModel(path, {
        ...fast,
        onEvent: (e) => {
          if (e.type !== 'waiting') return;
          waited.push(who);
          seenWaiting();
        },
      });
    const [a, b] = await Promise.all([pull('a'), pull('b')]);
    // One pull fetched both files; the one that waited found them installed.
    expect(waited).toHaveLength(1);
    expect({ a: a.status, b: b.status }).toEqual(waited[0] === 'a' ? { a: 'already-installed', b: 'installed' } : { a: 'installed', b: 'already-installed' });
    expect(server.requests.length - before).toBe(2);
  });

  it('takes over the lock of a dead process', async () => {
    const path = urlManifest('stale');
    mkdirSync(modelDir(home, 'stale'), { recursive: true });
    writeFileSync(join(modelDir(home, 'stale'), '.lock'), JSON.stringify({ pid: 2 ** 22 + 4321, host: (await import('node:os')).hostname(), nonce: 'x' }));
    expect(await pullModel(path, { ...fast, lockTimeoutMs: 2000 })).toMatchObject({ status: 'installed' });
  });

  it('attempts every model and reports each outcome', async () => {
    const outcomes = await pullModels([urlManifest('one'), 'no-such-model', 'builtin'], fast);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect((outcomes[1] as { error: unknown }).error).toBeInstanceOf(UsageError);
  });
});

describe('resolveModel errors', () => {
  it('says how to pull a catalog model that is not installed', async () => {
    await expect(resolveModel('efficientsam-s', fast)).rejects.toThrow('model efficientsam-s is not installed; run `samlite models pull efficientsam-s`');
  });

  it('lists known names for an unknown model and mentions manifests', async () => {
    await pullModel(urlManifest('mine'), fast);
    const error = await resolveModel('efficientsam-xl', fast).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      'unknown model "efficientsam-xl"; known models: efficientsam-ti, efficientsam-s, mobilesam, sam-vit-b, sam2.1-tiny, sam2.1-small, sam2.1-base-plus, sam2.1-large, fastsam-s, fastsam-x, builtin, builtin-efficientsam, builtin-sam2, builtin-fastsam, mine (a path to a model manifest .json is accepted too)',
    );
  });
});

describe('verify, rm, list, info', () => {
  it('verifies installed models and reports a file that no longer matches', async () => {
    const { files } = await pullModel(urlManifest('checked'), fast);
    expect(await verifyInstalledModels(fast)).toMatchObject([{ name: 'checked', ok: true }]);
    const bad = randomBytes(ENCODER.length);
    writeFileSync(files.encoder!, bad);
    const result = await verifyModel('checked', fast);
    expect(result.ok).toBe(false);
    expect(result.files[0]).toMatchObject({ role: 'encoder', ok: false, expected: sha256(ENCODER), actual: sha256(bad), note: 'sha256 mismatch' });
    expect(result.files[1]).toMatchObject({ role: 'decoder', ok: true });
    await expect(verifyModel('mobilesam', fast)).rejects.toThrow(InputError);
  });

  it('removes a model, refuses built-ins and reports what is not installed', async () => {
    await pullModel(urlManifest('gone'), fast);
    const removed = await removeModel('gone', fast);
    expect(removed).toMatchObject({ name: 'gone', wasInstalled: true, wasDefault: false, bytes: expect.any(Number) });
    expect(existsSync(modelDir(home, 'gone'))).toBe(false);
    await expect(removeModel('builtin', fast)).rejects.toThrow('builtin is built in and cannot be removed');
    await expect(removeModel('builtin', fast)).rejects.toBeInstanceOf(UsageError);
    await expect(removeModel('mobilesam', fast)).resolves.toBeNull();
  });

  it('lists the catalog plus installed manifest models', async () => {
    await pullModel(urlManifest('listed'), fast);
    const models = listModels(fast);
    expect(models.map((m) => m.name)).toEqual(['efficientsam-ti', 'efficientsam-s', 'mobilesam', 'sam-vit-b', 'sam2.1-tiny', 'sam2.1-small', 'sam2.1-base-plus', 'sam2.1-large', 'fastsam-s', 'fastsam-x', 'builtin', 'builtin-efficientsam', 'builtin-sam2', 'builtin-fastsam', 'listed']);
    expect(models.find((m) => m.name === 'mobilesam')).toMatchObject({ installed: false, size: 28157093 + 16496559, family: 'sam', license: 'Apache-2.0' });
    expect(models.find((m) => m.name === 'listed')).toMatchObject({ installed: true, source: 'manifest', size: ENCODER.length + DECODER.length });
  });

  it('describes the ONNX inputs and outputs of an installed model', async () => {
    const path = urlManifest('described');
    expect((await modelInfo(path, fast)).files[0]!.signature).toBeUndefined();
    await pullModel(path, fast);
    const info = await modelInfo('described', fast);
    expect(info.installed).toBe(true);
    expect(info.files[0]!.signature).toEqual({
      inputs: [{ name: 'input_image', type: 'float32', dims: ['H', 'W', 3] }],
      outputs: [{ name: 'image_embeddings', type: 'float32', dims: ['H', 'W', 3] }],
    });
    expect(info.files[1]!.signature!.inputs.map((i) => `${i.name}:${i.type}`)).toEqual(['point_coords:float32', 'orig_im_size:int64']);
  });
});
