/**
 * `samlite serve` as a command: the URL it prints, its refusals before starting (exit 2),
 * and Ctrl-C finishing the request in flight before exiting 130.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../scripts/fixtures/index.js';
import { ROOT, assertBuilt, runSamlite, startSamlite } from './helpers/run-cli.js';
import { buildSlowSamEncoder } from './helpers/slow-encoder.js';

let dir: string;
let images: string;
let slowManifest: string;

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'samlite-serve-cli-'));
  images = join(dir, 'images');
  mkdirSync(images);
  copyFileSync(fixturePath('landscape.png'), join(images, 'landscape.png'));
  // An encoder slow enough to be interrupted mid-run, with the built-in SAM decoder.
  writeFileSync(join(dir, 'slow-encoder.onnx'), buildSlowSamEncoder(25));
  slowManifest = join(dir, 'slow.json');
  writeFileSync(
    slowManifest,
    JSON.stringify({ name: 'slow-sam', family: 'sam', files: { encoder: { path: 'slow-encoder.onnx' }, decoder: { path: join(ROOT, 'models', 'builtin', 'builtin-sam-decoder.onnx') } } }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('samlite serve', () => {
  it.each([
    [['--no-token', '--host', '0.0.0.0'], '--no-token is allowed on loopback only; --host 0.0.0.0 needs a token'],
    [['--port', '70000'], '--port "70000": expected a whole number from 0 to 65535'],
    [['--token', 'short'], '--token "short": expected a token of at least 16 characters'],
    [['--model', 'nope'], 'unknown model "nope"'],
  ])('refuses %j before serving: exit 2 and one line', async (args, message) => {
    const run = await runSamlite(['serve', images, '--port', '0', ...args], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toBe('');
  });

  // Starting a server and an encoder run take a while on a busy machine: the budget, not the subject.
  it('prints the URL with its token; Ctrl-C finishes the request in flight, then exits 130', { timeout: 300_000 }, async () => {
    const { child, done } = startSamlite(['serve', images, '--model', slowManifest, '--port', '0', '--json', '--out', join(dir, 'out')], { cwd: dir });
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('\n')) resolve(text.split('\n')[0]);
      });
      child.on('close', () => reject(new Error('serve exited before printing its URL')));
    });
    const { url, base, token } = JSON.parse(line);
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(url).toBe(`${base}/?token=${token}`);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    // The slow encoder: a request that is surely in flight when the signal comes.
    const inFlight = fetch(`${base}/api/prepare`, { method: 'POST', headers, body: JSON.stringify({ image: 'landscape.png' }) });
    for (;;) {
      const health = await (await fetch(`${base}/api/health`, { headers })).json();
      if (health.queue.running === 1) break;
    }
    child.kill('SIGINT');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ width: 320, height: 240 });
    const run = await done;
    expect(run.code).toBe(130);
    expect(run.stderr).toContain('interrupted: finishing requests in flight');
    expect(run.stderr).toContain('samlite serve: stopped');
  });
});
