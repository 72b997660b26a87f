/**
 * `samlite models …` end to end: the real bin/samlite in a child process, with SAMLITE_HOME
 * in a fresh temporary folder per test. Needs `npm run build` first (npm test does it).
 * Catalog URLs are unreachable here, so pulls use manifests pointing at a loopback server.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { holdRefusingOrigin, serveBytes, sha256, stallAfter, startLoopbackServer, type LoopbackServer } from './helpers/loopback-server.js';
import { assertBuilt, jsonLines, runSamlite, runSamliteOnTty, startSamlite } from './helpers/run-cli.js';
import { tinyDecoder, tinyEncoder } from './helpers/tiny-onnx.js';

const ENCODER = Buffer.from(tinyEncoder());
const DECODER = Buffer.from(tinyDecoder());

let server: LoopbackServer;
let home: string;
let work: string;

const env = (extra: Record<string, string>) => ({ HOME: work, SAMLITE_HOME: home, ...extra });

/** Start bin/samlite; `done` resolves when it exits. */
function start(args: string[], extra: Record<string, string> = {}) {
  return startSamlite(args, { cwd: work, env: env(extra) });
}

/** Run bin/samlite asynchronously (the loopback server lives in this process). */
function samlite(args: string[], extra: Record<string, string> = {}) {
  return runSamlite(args, { cwd: work, env: env(extra) });
}

/** Run under a pseudo-terminal, where stdout and stderr merge. */
function samliteOnTty(args: string[], extra: Record<string, string> = {}) {
  return runSamliteOnTty(args, { cwd: work, env: env(extra) });
}

let routeId = 0;
function serve(file: string, bytes: Uint8Array, handler?: Parameters<LoopbackServer['route']>[1]): string {
  const path = `/c${++routeId}/${file}`;
  server.route(path, handler ?? ((req, res) => serveBytes(req, res, bytes)));
  return server.url(path);
}

function manifest(name: string, files: { encoder: object; decoder: object }): string {
  const path = join(work, `${name}.json`);
  writeFileSync(path, JSON.stringify({ name, family: 'sam', description: `test model ${name}`, files }));
  return path;
}

function urlManifest(name: string, decoderHandler?: Parameters<LoopbackServer['route']>[1]): string {
  return manifest(name, {
    encoder: { url: serve('encoder.onnx', ENCODER), size: ENCODER.length, sha256: sha256(ENCODER) },
    decoder: { url: serve('decoder.onnx', DECODER, decoderHandler), size: DECODER.length, sha256: sha256(DECODER) },
  });
}

beforeAll(async () => {
  assertBuilt();
  server = await startLoopbackServer();
});
afterAll(async () => server.close());
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'samlite-cli-home-'));
  work = mkdtempSync(join(tmpdir(), 'samlite-cli-work-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('samlite models path / list', () => {
  it('prints the store folder on stdout only', async () => {
    const run = await samlite(['models', 'path']);
    expect(run).toEqual({ code: 0, stdout: `${home}\n`, stderr: '' });
  });

  it('uses the XDG cache folder when SAMLITE_HOME is unset', async () => {
    const run = await samlite(['models', 'path'], { SAMLITE_HOME: '', XDG_CACHE_HOME: join(work, 'cache') });
    expect(run.stdout).toBe(`${join(work, 'cache', 'samlite')}\n`);
  });

  it('prints a table of the catalog on a terminal, and JSON lines when stdout is not one', async () => {
    const run = await samliteOnTty(['models', 'list']);
    expect(run.code).toBe(0);
    // On a terminal stdout and stderr merge: nothing but the table is printed.
    const lines = run.stdout.replace(/\r/g, '').trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+FAMILY\s+SIZE\s+INSTALLED\s+DEFAULT\s+LICENSE$/);
    expect(lines.find((line) => line.startsWith('mobilesam '))).toMatch(/^mobilesam\s+sam\s+44\.7 MB\s+no\s+Apache-2\.0$/);
    expect(lines.find((line) => line.startsWith('efficientsam-ti '))).toMatch(/efficientsam\s+41\.4 MB\s+no/);
    // `samlite models` alone lists too.
    expect((await samliteOnTty(['models'])).stdout).toBe(run.stdout);
    // Piped, the data is JSON lines, as segment's and everything's (README: stdout rule).
    const piped = await samlite(['models', 'list']);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    expect(jsonLines(piped.stdout).map((row) => row.name)).toEqual(lines.slice(1).map((line) => line.split(/\s+/)[0]));
    expect((await samlite(['models'])).stdout).toBe(piped.stdout);
  });

  it('prints the same as JSON with --json, and shows a pulled manifest model as installed', async () => {
    await samlite(['models', 'pull', urlManifest('listed'), '--quiet']);
    const run = await samlite(['models', 'list', '--json']);
    expect(run.code).toBe(0);
    // JSON lines, one model per line, as every command prints data.
    const rows = jsonLines(run.stdout) as unknown as { name: string; installed: boolean; size: number | null; family: string; license?: string }[];
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(rows.length);
    expect(rows.map((row) => row.name)).toEqual(['efficientsam-ti', 'efficientsam-s', 'mobilesam', 'sam-vit-b', 'sam2.1-tiny', 'sam2.1-small', 'sam2.1-base-plus', 'sam2.1-large', 'fastsam-s', 'fastsam-x', 'builtin', 'builtin-efficientsam', 'builtin-sam2', 'builtin-fastsam', 'listed']);
    expect(rows.find((row) => row.name === 'sam-vit-b')).toMatchObject({ family: 'sam', installed: false, size: 99827688 + 8743656, license: 'Apache-2.0' });
    expect(rows.find((row) => row.name === 'listed')).toMatchObject({ installed: true, size: ENCODER.length + DECODER.length });
  });
});

describe('samlite models pull', () => {
  it('installs a manifest model: progress on stderr, nothing on stdout, exit 0', async () => {
    const path = urlManifest('mine');
    const run = await samlite(['models', 'pull', path]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`mine encoder: fetching ${ENCODER.length} B from ${server.origin}`);
    expect(run.stderr).toContain('mine decoder: done');
    expect(run.stderr).toMatch(/^mine installed \(\d+ B fetched\)$/m);
    expect(readFileSync(join(home, 'models', 'mine', 'encoder.onnx')).equals(ENCODER)).toBe(true);

    const again = await samlite(['models', 'pull', path]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('mine is already installed (sha256 verified)');
  });

  it('is silent with --quiet', async () => {
    const run = await samlite(['models', 'pull', urlManifest('hush'), '--quiet']);
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('says a built-in needs nothing', async () => {
    const run = await samlite(['models', 'pull', 'builtin']);
    expect(run).toEqual({ code: 0, stdout: '', stderr: 'builtin is built in; nothing to do\n' });
  });

  it('attempts every model, exits 1 when one download fails, and names the URL and reason', async () => {
    const broken = urlManifest('broken', (_req, res) => res.writeHead(404).end());
    const fine = urlManifest('fine');
    const run = await samlite(['models', 'pull', broken, fine, '--quiet']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: broken decoder: could not download http:\/\/127\.0\.0\.1:\d+\/c\d+\/decoder\.onnx: HTTP 404 Not Found$/m);
    expect(run.stderr).toContain('error: 1 of 2 models failed to pull');
    expect(existsSync(join(home, 'models', 'fine', 'installed.json'))).toBe(true);
    expect(existsSync(join(home, 'models', 'broken', 'installed.json'))).toBe(false);
  });

  it('exits 2 for an unknown model, listing the known ones', async () => {
    const run = await samlite(['models', 'pull', 'efficientsam-xl']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('error: unknown model "efficientsam-xl"; known models: efficientsam-ti, efficientsam-s, mobilesam, sam-vit-b, sam2.1-tiny, sam2.1-small, sam2.1-base-plus, sam2.1-large, fastsam-s, fastsam-x, builtin, builtin-efficientsam, builtin-sam2, builtin-fastsam (a path to a model manifest .json is accepted too)\n');
  });

  it('exits 2 with one line for a bad manifest', async () => {
    const path = join(work, 'bad.json');
    writeFileSync(path, JSON.stringify({ family: 'yolo', files: { encoder: { path: 'e.onnx' } } }));
    const run = await samlite(['models', 'pull', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: manifest ${path}: family: unknown family "yolo" (expected "sam", "efficientsam", "sam2" or "fastsam")\n`);
  });

  it('names --mirror when the network is unreachable', async () => {
    const refusing = await holdRefusingOrigin();
    const url = refusing.url('/x.onnx');
    const path = manifest('offline', { encoder: { url, size: 10, sha256: 'b'.repeat(64) }, decoder: { url, size: 10, sha256: 'c'.repeat(64) } });
    const run = await samlite(['models', 'pull', path, '--quiet']).finally(() => refusing.close());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: offline encoder: could not download .*: cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED .*; the network looks unreachable; pull from a mirror with --mirror <url\|dir> \(or SAMLITE_MIRROR\)\n$/);
  });

  it('pulls through --mirror URL and SAMLITE_MIRROR folder by upstream file name', async () => {
    const upstream = 'https://upstream.invalid/release';
    const path = manifest('mirrored', {
      encoder: { url: `${upstream}/cli-enc.onnx`, size: ENCODER.length, sha256: sha256(ENCODER) },
      decoder: { url: `${upstream}/cli-dec.onnx`, size: DECODER.length, sha256: sha256(DECODER) },
    });
    server.route('/cli-mirror/cli-enc.onnx', (req, res) => serveBytes(req, res, ENCODER));
    server.route('/cli-mirror/cli-dec.onnx', (req, res) => serveBytes(req, res, DECODER));
    const viaUrl = await samlite(['models', 'pull', path, '--mirror', server.url('/cli-mirror/')]);
    expect(viaUrl.code).toBe(0);
    expect(viaUrl.stderr).toContain(`from ${server.url('/cli-mirror/cli-enc.onnx')}`);

    await samlite(['models', 'rm', 'mirrored']);
    const folder = join(work, 'mirror');
    mkdirSync(folder);
    writeFileSync(join(folder, 'cli-enc.onnx'), ENCODER);
    writeFileSync(join(folder, 'cli-dec.onnx'), DECODER);
    const viaFolder = await samlite(['models', 'pull', path], { SAMLITE_MIRROR: folder });
    expect(viaFolder.code).toBe(0);
    expect(viaFolder.stderr).toContain(`from ${join(folder, 'cli-enc.onnx')}`);
  });

  it('gives up on a stalled server within --stall-timeout', async () => {
    const big = randomBytes(100_000);
    const path = manifest('stuck', {
      encoder: { url: serve('stuck.onnx', big, (_req, res) => stallAfter(res, big, 1000)), size: big.length, sha256: sha256(big) },
      decoder: { url: serve('d.onnx', DECODER), size: DECODER.length, sha256: sha256(DECODER) },
    });
    // The server never sends more, so the stall is certain however busy the machine.
    const run = await samlite(['models', 'pull', path, '--stall-timeout', '0.3', '--retries', '0']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: stuck encoder: could not download .*: no data received for 0\.3 s \(stalled connection\)$/m);
  });

  /**
   * A pull of model `name` whose encoder server sends `stallAt` of 300 kB and goes quiet
   * until `healthy()` is called; resolves once those bytes are in the partial file. The
   * pull's stall timeout is the longest there is: only the test ends that connection.
   */
  async function stalledPull(name: string, stallAt: number) {
    const big = randomBytes(300_000);
    let healthy = false;
    const url = serve(`${name}.onnx`, big, (req, res) => (healthy ? serveBytes(req, res, big) : stallAfter(res, big, stallAt)));
    const path = manifest(name, {
      encoder: { url, size: big.length, sha256: sha256(big) },
      decoder: { url: serve('d.onnx', DECODER), size: DECODER.length, sha256: sha256(DECODER) },
    });
    const folder = join(home, 'models', name);
    // A partial file may be renamed between the listing and its stat: it then counts 0.
    const partialSize = () =>
      Math.max(0, ...readdirSync(folder).filter((file) => file.endsWith('.partial')).map((file) => statSync(join(folder, file), { throwIfNoEntry: false })?.size ?? 0));
    // Made here (the pull makes it too) so that it is watched before the pull starts: every
    // write to the partial file is then an event, and no clock is involved.
    mkdirSync(folder, { recursive: true });
    const watcher = watch(folder);
    const first = start(['models', 'pull', path, '--stall-timeout', '3600']);
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (partialSize() >= stallAt) resolve();
        };
        watcher.on('change', check);
        watcher.on('error', reject);
        // A pull that ends before writing them fails the test instead.
        void first.done.then((run) => reject(new Error(`the first pull ended before writing ${stallAt} bytes: ${run.stderr}`)));
        check();
      });
    } finally {
      watcher.close();
    }
    return { big, url, path, folder, first, healthy: () => void (healthy = true) };
  }

  it('resumes, with a Range request, a download whose process was killed', async () => {
    const { big, url, path, folder, first, healthy } = await stalledPull('killed', 120_000);
    first.child.kill('SIGKILL');
    await first.done;
    expect(readdirSync(folder).sort()).toEqual(expect.arrayContaining(['.lock']));
    expect(existsSync(join(folder, 'encoder.onnx'))).toBe(false);

    healthy();
    const second = await samlite(['models', 'pull', path]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('killed encoder: fetching 300.0 kB from');
    expect(second.stderr).toContain('resuming at 120.0 kB');
    expect(server.requestsFor(new URL(url).pathname).at(-1)!.range).toBe('bytes=120000-');
    expect(readFileSync(join(folder, 'encoder.onnx')).equals(big)).toBe(true);
    expect(readdirSync(folder).sort()).toEqual(['decoder.onnx', 'encoder.onnx', 'installed.json']);
  });

  it('Ctrl-C stops a pull at once: exit 130, an "interrupted" line, no lock left, the bytes kept for the next pull', async () => {
    const { big, path, folder, first, healthy } = await stalledPull('ctrlc', 100_000);
    first.child.kill('SIGINT');
    const run = await first.done;
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/^interrupted: ctrlc encoder: interrupted at 100000 of 300000 bytes; the 100000 bytes received are kept and the next pull resumes from there$/m);
    expect(readdirSync(folder)).toEqual([`.encoder.onnx.${sha256(big).slice(0, 12)}.partial`]);

    healthy();
    const second = await samlite(['models', 'pull', path]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('resuming at 100.0 kB');
    expect(readFileSync(join(folder, 'encoder.onnx')).equals(big)).toBe(true);
  });

  it('SIGTERM stops a pull the same way, says it was SIGTERM, and exits 143', async () => {
    const { big, folder, first } = await stalledPull('sigterm', 100_000);
    first.child.kill('SIGTERM');
    const run = await first.done;
    expect(run.code).toBe(143);
    expect(run.stderr).toMatch(/^interrupted by SIGTERM: sigterm encoder: interrupted at 100000 of 300000 bytes; the 100000 bytes received are kept and the next pull resumes from there$/m);
    expect(readdirSync(folder)).toEqual([`.encoder.onnx.${sha256(big).slice(0, 12)}.partial`]);
  });

  it('says it starts over, not "resuming", when the server ignores the Range request', async () => {
    const big = randomBytes(200_000);
    const path = manifest('norange', {
      encoder: { url: serve('norange.onnx', big, (req, res) => serveBytes(req, res, big, { ranges: false })), size: big.length, sha256: sha256(big) },
      decoder: { url: serve('d.onnx', DECODER), size: DECODER.length, sha256: sha256(DECODER) },
    });
    // What an interrupted pull parks: the first 80 kB under the resumable name.
    const folder = join(home, 'models', 'norange');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `.encoder.onnx.${sha256(big).slice(0, 12)}.partial`), big.subarray(0, 80_000));
    const run = await samlite(['models', 'pull', path]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('norange encoder: fetching 200.0 kB from');
    expect(run.stderr).toContain('(the server does not resume downloads: starting over)');
    expect(run.stderr).not.toContain('resuming at');
    expect(readFileSync(join(folder, 'encoder.onnx')).equals(big)).toBe(true);
  });

  it('rejects a bad --stall-timeout as a usage error', async () => {
    const run = await samlite(['models', 'pull', 'mobilesam', '--stall-timeout', 'soon']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: --stall-timeout "soon": expected a number from 0.1 to 3600\n');
  });

  it('draws a progress bar on a terminal; colour unless NO_COLOR', async () => {
    const big = randomBytes(400_000);
    const path = manifest('tty', {
      encoder: { url: serve('tty.onnx', big), size: big.length, sha256: sha256(big) },
      decoder: { url: serve('tty-d.onnx', DECODER), size: DECODER.length, sha256: sha256(DECODER) },
    });
    const run = await samliteOnTty(['models', 'pull', path, 'no-such-model']);
    expect(run.stdout).toMatch(/tty encoder \[[█░]+\] \d+% \| .* \| ETA/);
    expect(run.stdout).toContain('\u001b[31merror:\u001b[39m unknown model "no-such-model"');
    const plain = await samliteOnTty(['models', 'pull', 'no-such-model'], { NO_COLOR: '1' });
    expect(plain.stdout).toContain('error: unknown model "no-such-model"');
    expect(plain.stdout).not.toContain('\u001b[');
  });
});

describe('samlite models verify / rm / info / default', () => {
  it('verifies installed models and exits 1 on a mismatch', async () => {
    const none = await samlite(['models', 'verify']);
    expect(none).toEqual({ code: 0, stdout: '', stderr: 'no models installed; nothing to verify\n' });

    await samlite(['models', 'pull', urlManifest('checked'), '--quiet']);
    const ok = await samlite(['models', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok {6}checked encoder {2}.*encoder\.onnx\nok {6}checked decoder {2}.*decoder\.onnx\n$/);
    expect(ok.stderr).toBe('');

    writeFileSync(join(home, 'models', 'checked', 'decoder.onnx'), randomBytes(DECODER.length));
    const bad = await samlite(['models', 'verify', 'checked', '--json']);
    expect(bad.code).toBe(1);
    expect(bad.stdout.trimEnd().split('\n')).toHaveLength(1);
    const results = jsonLines(bad.stdout) as unknown as { name: string; ok: boolean; files: { role: string; ok: boolean }[] }[];
    expect(results).toMatchObject([{ name: 'checked', ok: false, files: [{ role: 'encoder', ok: true }, { role: 'decoder', ok: false }] }]);
    expect(bad.stderr).toMatch(/^error: checked decoder: sha256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}; run `samlite models pull checked` to fetch it again\n$/);

    const missing = await samlite(['models', 'verify', 'mobilesam']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: model mobilesam is not installed; nothing to verify\n');
  });

  it('removes models; built-ins are a usage error', async () => {
    await samlite(['models', 'pull', urlManifest('gone'), '--quiet']);
    const run = await samlite(['models', 'rm', 'gone']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^removed gone: .* freed from .*gone\n$/);
    expect(existsSync(join(home, 'models', 'gone'))).toBe(false);

    const builtin = await samlite(['models', 'rm', 'builtin']);
    expect(builtin).toEqual({ code: 2, stdout: '', stderr: 'error: builtin is built in and cannot be removed\n' });
    // Nothing to remove is not a failed input: exit 0, with a note.
    const absent = await samlite(['models', 'rm', 'mobilesam']);
    expect(absent).toEqual({ code: 0, stdout: '', stderr: 'model mobilesam is not installed; nothing to remove\n' });
  });

  it('shows catalog details, and ONNX inputs and outputs once installed', async () => {
    const catalog = await samlite(['models', 'info', 'efficientsam-ti']);
    expect(catalog.code).toBe(0);
    expect(catalog.stdout).toContain('family:       efficientsam');
    expect(catalog.stdout).toContain('url:        https://github.com/labelmeai/efficient-sam/releases/download/onnx-models-20231225/efficient_sam_vitt_encoder.onnx');
    expect(catalog.stdout).toContain('sha256:     7a73ee65aa2c37237c89b4b18e73082f757ffb173899609c5d97a2bbd4ebb02d');
    expect(catalog.stdout).toContain('installed:    no');
    expect(catalog.stderr).toContain('efficientsam-ti is not installed; `samlite models pull efficientsam-ti`');

    const path = urlManifest('shown');
    await samlite(['models', 'pull', path, '--quiet']);
    const text = await samlite(['models', 'info', path]);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toContain('installed:    yes');
    expect(text.stdout).toMatch(/inputs:\n {4}input_image {2}float32 {2}\[H, W, 3\]\n {2}outputs:\n {4}image_embeddings {2}float32 {2}\[H, W, 3\]/);
    expect(text.stdout).toMatch(/^ {4}point_coords {2}float32 {2}\[1, N, 2\]\n {4}orig_im_size {2}int64 {4}\[2\]$/m);

    const info = (await samlite(['models', 'info', 'shown', '--json'])).stdout;
    expect(info.trimEnd().split('\n')).toHaveLength(1);
    const json = JSON.parse(info) as { name: string; files: { role: string; signature: { inputs: { name: string; type: string; dims: unknown[] }[] } }[] };
    expect(json.name).toBe('shown');
    expect(json.files[1]!.signature.inputs).toEqual([
      { name: 'point_coords', type: 'float32', dims: [1, 'N', 2] },
      { name: 'orig_im_size', type: 'int64', dims: [2] },
    ]);
  });

  it('sets, prints and clears the default model', async () => {
    const unsetRun = await samlite(['models', 'default']);
    expect(unsetRun.code).toBe(0);
    expect(unsetRun.stdout).toBe('');
    expect(unsetRun.stderr).toMatch(/^no default model set/);

    const set = await samlite(['models', 'default', 'mobilesam']);
    expect(set.code).toBe(0);
    expect(set.stderr).toBe('default model: mobilesam\nwarning: mobilesam is not installed yet; run `samlite models pull mobilesam`\n');
    expect(JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'))).toEqual({ defaultModel: 'mobilesam' });
    expect(await samlite(['models', 'default'])).toEqual({ code: 0, stdout: 'mobilesam\n', stderr: '' });

    const cleared = await samlite(['models', 'default', '--unset']);
    expect(cleared).toEqual({ code: 0, stdout: '', stderr: 'cleared the default model (was mobilesam)\n' });
    expect((await samlite(['models', 'default', 'nope'])).code).toBe(2);
    expect((await samlite(['models', 'default', 'mobilesam', '--unset'])).code).toBe(2);
  });
});

describe('samlite models --help', () => {
  it('documents every subcommand with examples', async () => {
    const top = await samlite(['models', '--help']);
    expect(top.code).toBe(0);
    for (const sub of ['list', 'pull', 'verify', 'rm', 'info', 'path', 'default']) expect(top.stdout).toMatch(new RegExp(`^  ${sub}\\b`, 'm'));
    expect(top.stdout).toContain('Examples:');
    const helps = await Promise.all(['list', 'pull', 'verify', 'rm', 'info', 'path', 'default'].map(async (sub) => [sub, await samlite(['models', sub, '--help'])] as const));
    for (const [sub, help] of helps) {
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: samlite models ${sub}`);
      expect(help.stdout).toContain(`$ samlite models ${sub}`);
    }
    const pull = helps.find(([sub]) => sub === 'pull')![1];
    for (const flag of ['--mirror <url|dir>', '--stall-timeout <seconds>', '--retries <n>', '--quiet']) expect(pull.stdout).toContain(flag);
  });
});
