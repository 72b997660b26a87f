import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DownloadError } from '../src/util/errors.js';
import { copyVerified, downloadVerified, type DownloadEvent, type DownloadOptions } from '../src/store/download.js';
import { holdRefusingOrigin, onFirstProgress, redirect, resetAfter, serveBytes, sha256, stallAfter, startLoopbackServer, type LoopbackServer } from './helpers/loopback-server.js';
import { STALL_MS, onStallClock } from './helpers/stall-clock.js';

const FILE = randomBytes(300_000);
const SHA = sha256(FILE);
const HALF = 150_000;
/**
 * Short delays so retries cost milliseconds. No stall timeout a busy machine could reach:
 * only the stall tests let a stall happen, on a clock they move themselves.
 */
const FAST: DownloadOptions = { retries: 3, retryDelayMs: 5, maxRetryDelayMs: 20, stallTimeoutMs: 3_600_000 };

let server: LoopbackServer;
let other: LoopbackServer;
let dir: string;

beforeAll(async () => {
  server = await startLoopbackServer();
  other = await startLoopbackServer();
});
afterAll(async () => {
  await server.close();
  await other.close();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'samlite-dl-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

let routeId = 0;
/** A fresh path per test so request counts never mix. */
function path(name: string): string {
  routeId++;
  return `/${routeId}/${name}`;
}

function target(url: string, dest = join(dir, 'model.onnx')) {
  return { url, size: FILE.length, sha256: SHA, dest };
}

/** Files in the destination folder other than the destination itself. */
function leftovers(): string[] {
  return readdirSync(dir).filter((name) => name !== 'model.onnx');
}

describe('downloadVerified', () => {
  it('takes the server\'s length for a file of unstated size (SAM 2.1\'s), and the sha256 still decides', async () => {
    const p = path('unsized.onnx');
    server.route(p, (req, res) => serveBytes(req, res, FILE));
    const events: DownloadEvent[] = [];
    await downloadVerified({ ...target(server.url(p)), size: undefined }, { ...FAST, onEvent: (e) => events.push(e) });
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    expect(events[0]).toMatchObject({ type: 'start', size: FILE.length });
    expect(events.at(-1)).toMatchObject({ type: 'done', size: FILE.length });
    const wrong = path('unsized-wrong.onnx');
    server.route(wrong, (req, res) => serveBytes(req, res, randomBytes(1000)));
    await expect(downloadVerified({ ...target(server.url(wrong), join(dir, 'other.onnx')), size: undefined }, FAST)).rejects.toThrow(/sha256 mismatch/);
    expect(existsSync(join(dir, 'other.onnx'))).toBe(false);
  });

  it('downloads, verifies and leaves no temporary file', async () => {
    const p = path('ok.onnx');
    server.route(p, (req, res) => serveBytes(req, res, FILE));
    const events: DownloadEvent[] = [];
    await downloadVerified(target(server.url(p)), { ...FAST, onEvent: (e) => events.push(e) });
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    expect(leftovers()).toEqual([]);
    expect(events[0]).toMatchObject({ type: 'start', offset: 0, size: FILE.length });
    expect(events.at(-1)).toMatchObject({ type: 'done', size: FILE.length });
  });

  it('follows a redirect chain across servers, relative locations included', async () => {
    const a = path('a');
    const b = path('b');
    const final = path('final.onnx');
    server.route(a, (_req, res) => redirect(res, other.url(b), 301));
    other.route(b, (_req, res) => redirect(res, `..${final}`, 307));
    other.route(final, (req, res) => serveBytes(req, res, FILE));
    await downloadVerified(target(server.url(a)), FAST);
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    expect(other.requestsFor(final)).toHaveLength(1);
  });

  it('caps the redirect chain and does not retry it', async () => {
    const loop = path('loop');
    server.route(loop, (_req, res) => redirect(res, loop));
    await expect(downloadVerified(target(server.url(loop)), { ...FAST, maxRedirects: 3 })).rejects.toThrow(/more than 3 redirects/);
    expect(server.requestsFor(loop)).toHaveLength(4);
    expect(existsSync(join(dir, 'model.onnx'))).toBe(false);
  });

  it('resumes with a Range request after a connection reset halfway', async () => {
    const p = path('reset.onnx');
    const events: DownloadEvent[] = [];
    const client = onFirstProgress<DownloadEvent>((e) => events.push(e));
    server.route(p, (req, res, count) => (count === 1 ? resetAfter(res, FILE, HALF, client.reached) : serveBytes(req, res, FILE)));
    await downloadVerified(target(server.url(p)), { ...FAST, onEvent: client.onEvent });
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    const requests = server.requestsFor(p);
    expect(requests).toHaveLength(2);
    expect(requests[0]!.range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(requests[1]!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(HALF);
    expect(events.some((e) => e.type === 'retry')).toBe(true);
    expect(events.filter((e) => e.type === 'start').at(-1)).toMatchObject({ offset: resumedAt });
    expect(leftovers()).toEqual([]);
  });

  it('starts over when the server ignores Range (200 instead of 206)', async () => {
    const p = path('norange.onnx');
    const events: DownloadEvent[] = [];
    const client = onFirstProgress<DownloadEvent>((e) => events.push(e));
    server.route(p, (req, res, count) => (count === 1 ? resetAfter(res, FILE, HALF, client.reached) : serveBytes(req, res, FILE, { ranges: false })));
    await downloadVerified(target(server.url(p)), { ...FAST, onEvent: client.onEvent });
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    const requests = server.requestsFor(p);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.range).toMatch(/^bytes=\d+-$/);
    // The second start reports where the bytes really start: 0, not the offset asked for.
    expect(events.filter((e) => e.type === 'start')).toMatchObject([{ offset: 0 }, { offset: 0, rangeIgnored: true }]);
  });

  it('starts over when a 206 carries the wrong Content-Range', async () => {
    const p = path('badrange.onnx');
    const client = onFirstProgress<DownloadEvent>();
    server.route(p, (req, res, count) => {
      if (count === 1) return resetAfter(res, FILE, HALF, client.reached);
      if (count === 2) {
        res.writeHead(206, { 'content-range': `bytes 0-${FILE.length - 1}/${FILE.length}`, 'content-length': FILE.length });
        res.end(FILE);
        return;
      }
      serveBytes(req, res, FILE);
    });
    await downloadVerified(target(server.url(p)), { ...FAST, onEvent: client.onEvent });
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    const requests = server.requestsFor(p);
    expect(requests).toHaveLength(3);
    expect(requests[2]!.range).toBeUndefined();
  });

  it('retries a hash mismatch once, then succeeds (an error page served with 200)', async () => {
    const p = path('cdn.onnx');
    const wrong = randomBytes(FILE.length);
    server.route(p, (req, res, count) => (count === 1 ? serveBytes(req, res, wrong) : serveBytes(req, res, FILE)));
    await downloadVerified(target(server.url(p)), FAST);
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    expect(server.requestsFor(p)).toHaveLength(2);
  });

  it('gives up on a second hash mismatch and leaves nothing under the final name', async () => {
    const p = path('wrong.onnx');
    const wrong = randomBytes(FILE.length);
    server.route(p, (req, res) => serveBytes(req, res, wrong));
    const failure = downloadVerified(target(server.url(p)), FAST);
    await expect(failure).rejects.toBeInstanceOf(DownloadError);
    await expect(failure).rejects.toThrow(new RegExp(`could not download ${server.url(p)}: sha256 mismatch: expected ${SHA}, got ${sha256(wrong)}`));
    expect(server.requestsFor(p)).toHaveLength(2);
    expect(existsSync(join(dir, 'model.onnx'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('treats a response of the wrong declared length as wrong content', async () => {
    const p = path('short.onnx');
    server.route(p, (_req, res) => res.writeHead(200, { 'content-type': 'text/html', 'content-length': 25 }).end('<html>rate limited</html>'));
    await expect(downloadVerified(target(server.url(p)), FAST)).rejects.toThrow(/server sent 25 bytes where 300000 were expected/);
    expect(server.requestsFor(p)).toHaveLength(2);
  });

  it('treats a short response that ends cleanly (no Content-Length) as wrong content', async () => {
    const p = path('chunked.onnx');
    server.route(p, (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>rate limited</html>'));
    await expect(downloadVerified(target(server.url(p)), FAST)).rejects.toThrow(/server sent 25 bytes where 300000 were expected/);
    expect(server.requestsFor(p)).toHaveLength(2);
    expect(leftovers()).toEqual([]);
  });

  it('does not retry a 404 and names the URL', async () => {
    const p = path('missing.onnx');
    await expect(downloadVerified(target(server.url(p)), FAST)).rejects.toThrow(`could not download ${server.url(p)}: HTTP 404 Not Found`);
    expect(server.requestsFor(p)).toHaveLength(1);
  });

  it('retries a 500 and then succeeds', async () => {
    const p = path('flaky.onnx');
    server.route(p, (req, res, count) => (count === 1 ? res.writeHead(500).end('oops') : serveBytes(req, res, FILE)));
    await downloadVerified(target(server.url(p)), FAST);
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    expect(server.requestsFor(p)).toHaveLength(2);
  });

  it('gives up after the configured retries, naming the reason', async () => {
    const p = path('down.onnx');
    server.route(p, (_req, res) => res.writeHead(503).end());
    await expect(downloadVerified(target(server.url(p)), { ...FAST, retries: 2 })).rejects.toThrow(/HTTP 503 Service Unavailable \(gave up after 3 attempts\)/);
    expect(server.requestsFor(p)).toHaveLength(3);
  });

  it('honours Retry-After on 429, capped by maxRetryDelayMs', async () => {
    const p = path('busy.onnx');
    server.route(p, (req, res, count) => (count === 1 ? res.writeHead(429, { 'retry-after': '120' }).end() : serveBytes(req, res, FILE)));
    const events: DownloadEvent[] = [];
    await downloadVerified(target(server.url(p)), { ...FAST, onEvent: (e) => events.push(e) });
    expect(events.find((e) => e.type === 'retry')).toMatchObject({ delayMs: 20 });
  });

  it('detects a stalled connection and resumes after it', async () => {
    const p = path('stall.onnx');
    server.route(p, (req, res, count) => (count === 1 ? stallAfter(res, FILE, HALF) : serveBytes(req, res, FILE)));
    const stalled = (e: DownloadEvent) => e.type === 'progress' && e.received === HALF;
    const events = await onStallClock(stalled, (onEvent) => downloadVerified(target(server.url(p)), { ...FAST, stallTimeoutMs: STALL_MS, onEvent }));
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    expect(events.filter((e) => e.type === 'retry')).toMatchObject([{ reason: 'no data received for 0.3 s (stalled connection)' }]);
    expect(server.requestsFor(p).map((r) => r.range)).toEqual([undefined, `bytes=${HALF}-`]);
  });

  it('gives up on a server that always stalls, saying so', async () => {
    const p = path('dead.onnx');
    server.route(p, (_req, res) => stallAfter(res, FILE, 1000));
    await expect(downloadVerified(target(server.url(p)), { ...FAST, retries: 1, stallTimeoutMs: 150 })).rejects.toThrow(/no data received for 0.15 s \(stalled connection\)/);
    expect(existsSync(join(dir, 'model.onnx'))).toBe(false);
  });

  it('says the host cannot be reached, with the caller’s hint', async () => {
    const refusing = await holdRefusingOrigin();
    try {
      await expect(downloadVerified(target(refusing.url('/gone.onnx')), { ...FAST, unreachableHint: 'use --mirror' })).rejects.toThrow(/cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED.*; use --mirror$/);
    } finally {
      await refusing.close();
    }
  });

  it('resumes a partial left by an earlier run that gave up', async () => {
    const p = path('parked.onnx');
    const client = onFirstProgress<DownloadEvent>();
    server.route(p, (req, res, count) => (count === 1 ? resetAfter(res, FILE, HALF, client.reached) : res.writeHead(404).end()));
    await expect(downloadVerified(target(server.url(p)), { ...FAST, onEvent: client.onEvent })).rejects.toThrow(/HTTP 404/);
    expect(existsSync(join(dir, 'model.onnx'))).toBe(false);
    const parked = leftovers();
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatch(/^\.model\.onnx\.[0-9a-f]{12}\.partial$/);

    const q = path('parked-2.onnx');
    server.route(q, (req, res) => serveBytes(req, res, FILE));
    await downloadVerified(target(server.url(q)), FAST);
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    expect(server.requestsFor(q)).toHaveLength(1);
    expect(server.requestsFor(q)[0]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(leftovers()).toEqual([]);
  });

  it('never takes a leftover temp file of a killed run for a finished file', async () => {
    // A full-length temp file with the wrong bytes, from a process that no longer exists.
    const deadPid = 2 ** 22 + 12345;
    writeFileSync(join(dir, `.model.onnx.${SHA.slice(0, 12)}.${deadPid}.abcd1234.partial`), randomBytes(FILE.length));
    const p = path('after-crash.onnx');
    server.route(p, (req, res) => serveBytes(req, res, FILE));
    await downloadVerified(target(server.url(p)), FAST);
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    expect(server.requestsFor(p)).toHaveLength(1);
    expect(server.requestsFor(p)[0]!.range).toBeUndefined();
    expect(leftovers()).toEqual([]);
  });

  it('restarts from scratch when a resumed partial turns out to hold wrong bytes', async () => {
    writeFileSync(join(dir, `.model.onnx.${SHA.slice(0, 12)}.partial`), randomBytes(HALF));
    const p = path('bad-partial.onnx');
    server.route(p, (req, res) => serveBytes(req, res, FILE));
    await downloadVerified(target(server.url(p)), FAST);
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    const requests = server.requestsFor(p);
    expect(requests.map((r) => r.range)).toEqual([`bytes=${HALF}-`, undefined]);
  });

  it('lets two concurrent writers of one file each use their own temporary file', async () => {
    const p = path('twice.onnx');
    server.route(p, (req, res) => serveBytes(req, res, FILE));
    await Promise.all([downloadVerified(target(server.url(p)), FAST), downloadVerified(target(server.url(p)), FAST)]);
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
    expect(leftovers()).toEqual([]);
  });
});

describe('copyVerified (local mirror folder)', () => {
  it('copies a matching file', async () => {
    const source = join(dir, 'source.onnx');
    writeFileSync(source, FILE);
    await copyVerified(source, { size: FILE.length, sha256: SHA, dest: join(dir, 'model.onnx') });
    expect(readFileSync(join(dir, 'model.onnx')).equals(FILE)).toBe(true);
  });

  it('rejects a file with the right size but other bytes, leaving nothing behind', async () => {
    const source = join(dir, 'source.onnx');
    writeFileSync(source, randomBytes(FILE.length));
    await expect(copyVerified(source, { size: FILE.length, sha256: SHA, dest: join(dir, 'model.onnx') })).rejects.toThrow(`mirror file ${source} does not match`);
    expect(leftovers()).toEqual(['source.onnx']);
  });

  it('names a missing mirror file', async () => {
    const source = join(dir, 'absent.onnx');
    await expect(copyVerified(source, { size: FILE.length, sha256: SHA, dest: join(dir, 'model.onnx') })).rejects.toThrow(`mirror file ${source} does not exist`);
  });
});
