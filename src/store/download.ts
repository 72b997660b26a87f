/**
 * The download engine: get one file of known size and sha256 to its final path, or fail
 * leaving nothing under that path.
 *
 * Bytes stream into a temporary `.partial` file beside the destination while being hashed;
 * the file is renamed into place only when both size and hash match. An interrupted file is
 * kept under a `.partial` name and resumed with an HTTP Range request (its prefix is re-read
 * and hashed, so a resumed file is checked as strictly as a fresh one). Redirects are
 * followed, transient failures retried with backoff, and a connection that stops sending is
 * cut after a stall timeout.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { DownloadError, InterruptedError } from '../util/errors.js';
import { pidAlive } from './lock.js';

/** Knobs for retries and timeouts; tests shrink them to milliseconds. */
export interface RetryOptions {
  /** Retries after the first attempt for transient failures. Default 4. */
  retries?: number;
  /** First backoff delay; doubles per retry, with jitter. Default 1000 ms. */
  retryDelayMs?: number;
  /** Backoff ceiling, also the cap on a server's Retry-After. Default 30 s. */
  maxRetryDelayMs?: number;
  /** Cut a connection that delivers no bytes for this long. Default 30 s. */
  stallTimeoutMs?: number;
  /** Longest redirect chain followed. Default 10. */
  maxRedirects?: number;
  /**
   * Stop when aborted (Ctrl-C): the connection is cut, the bytes so far are parked for
   * the next pull to resume, and an InterruptedError is thrown.
   */
  signal?: AbortSignal;
}

/** What the engine reports while it works; `label` is the caller's name for the file. */
export type DownloadEvent =
  /**
   * The server answered: bytes from `offset` on are coming. `rangeIgnored`: a resume was
   * asked for but the server sent the whole file, so the download starts over.
   */
  | { type: 'start'; label: string; source: string; size: number; offset: number; rangeIgnored?: boolean }
  /** `received` bytes of the file are in the partial file (reported after each write). */
  | { type: 'progress'; label: string; received: number; size: number }
  | { type: 'retry'; label: string; source: string; attempt: number; reason: string; delayMs: number }
  | { type: 'done'; label: string; size: number };

export interface DownloadOptions extends RetryOptions {
  onEvent?: (event: DownloadEvent) => void;
  /** Appended to the error when the host cannot be reached (e.g. advice to use a mirror). */
  unreachableHint?: string;
}

/** A file to fetch and where it goes. */
export interface DownloadTarget {
  /** http(s) URL. */
  readonly url: string;
  /** Byte size; undefined when unknown: the server's length is taken, the sha256 decides. */
  readonly size?: number;
  /** Lower-case hex. */
  readonly sha256: string;
  /** Final path; written only with verified bytes. */
  readonly dest: string;
  /** Name used in events and errors; defaults to the destination's file name. */
  readonly label?: string;
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN']);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET', 'EPROTO']);

/** Kinds of failure, which decide whether and how an attempt is repeated. */
type FailureKind =
  | 'transient' // retry, resuming from what is on disk
  | 'unreachable' // retried once only: usually no network at all
  | 'restart' // the partial file cannot be trusted: delete it, then retry
  | 'wrong-content' // full length arrived but is not the file: one fresh retry
  | 'permanent';

class AttemptError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

function classifyError(err: unknown): AttemptError {
  if (err instanceof AttemptError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code && UNREACHABLE_CODES.has(code)) return new AttemptError('unreachable', `${code} (${message})`);
  if ((code && TRANSIENT_CODES.has(code)) || /socket hang up|aborted/i.test(message)) return new AttemptError('transient', code ? `${code} (${message})` : message);
  return new AttemptError('permanent', code ? `${code} (${message})` : message);
}

/** Wait `ms`, or less when `signal` aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      done();
    }
    signal?.addEventListener('abort', finish, { once: true });
  });
}

/** The error for a download stopped by its signal, after its bytes were parked. */
function interrupted(label: string, received: number, size: number | undefined): InterruptedError {
  const kept = received > 0 ? `; the ${received} bytes received are kept and the next pull resumes from there` : '';
  return new InterruptedError(`${label}: interrupted at ${received}${size === undefined ? '' : ` of ${size}`} bytes${kept}`);
}

function backoffMs(failures: number, options: RetryOptions): number {
  const base = options.retryDelayMs ?? 1000;
  const cap = options.maxRetryDelayMs ?? 30_000;
  const exponential = Math.min(cap, base * 2 ** (failures - 1));
  // Jitter spreads out many clients retrying a struggling server at the same moment.
  return Math.round(exponential * (0.5 + Math.random() * 0.5));
}

function retryAfterMs(header: string | undefined, cap: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, cap) : undefined;
}

/** Hex sha256 of a whole file. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await hashPrefixInto(hash, path);
  return hash.digest('hex');
}

async function hashPrefixInto(hash: Hash, path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function partialPrefix(dest: string, sha256: string): string {
  return `.${basename(dest)}.${sha256.slice(0, 12)}`;
}

/** A temporary name only this writer uses: two writers never share a file. */
function ownTempPath(dest: string, sha256: string): string {
  return join(dirname(dest), `${partialPrefix(dest, sha256)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
}

/** Where an unfinished download is parked for a later run to resume. */
function parkedPath(dest: string, sha256: string): string {
  return join(dirname(dest), `${partialPrefix(dest, sha256)}.partial`);
}

/**
 * Take over the best leftover partial of this file (the parked one, or one whose writer is
 * dead) by renaming it to our own temp name; rename is atomic, so if two writers race only
 * one gets it. Partials of other versions of the file (another sha256) are deleted.
 */
async function claimLeftover(dest: string, sha256: string, temp: string): Promise<void> {
  const folder = dirname(dest);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return;
  }
  const ours = partialPrefix(dest, sha256);
  const anyVersion = new RegExp(`^\\.${basename(dest).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f]{12}(\\.(\\d+)\\.[0-9a-f]+)?\\.partial$`);
  const candidates: { path: string; size: number }[] = [];
  for (const name of names) {
    const match = anyVersion.exec(name);
    if (!match) continue;
    const path = join(folder, name);
    const pid = match[2] ? Number(match[2]) : undefined;
    if (pid !== undefined && pidAlive(pid)) continue; // someone is writing it
    if (!name.startsWith(`${ours}.`)) {
      await rm(path, { force: true });
      continue;
    }
    candidates.push({ path, size: await fileSize(path) });
  }
  candidates.sort((a, b) => b.size - a.size);
  for (const [index, candidate] of candidates.entries()) {
    if (index === 0) await rename(candidate.path, temp).catch(() => undefined);
    else await rm(candidate.path, { force: true });
  }
}

async function moveIntoPlace(temp: string, dest: string): Promise<void> {
  // Flush to disk before the rename, so a crash cannot leave a renamed but empty file.
  const handle = await open(temp, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, dest);
}

/** Write `chunk` to `file`; resolves once it is written (in the file, not in the stream's buffer). */
function writeChunk(file: WriteStream, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => file.write(chunk, (err) => (err ? reject(err) : resolve())));
}

function request(url: string, headers: Record<string, string>, onRequest: (req: ClientRequest) => void): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const parsed = new URL(url);
    const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : undefined;
    if (!client) {
      reject(new AttemptError('permanent', `unsupported URL scheme ${parsed.protocol}`));
      return;
    }
    // No keep-alive agent: each attempt gets a fresh connection, and nothing keeps the
    // process alive afterwards.
    const req = client.request(parsed, { method: 'GET', headers, agent: false }, resolve);
    req.on('error', reject);
    onRequest(req);
    req.end();
  });
}

interface AttemptState {
  /** ETag or Last-Modified seen earlier, sent as If-Range so a changed file restarts. */
  validator?: string;
}

/** One GET (with its redirects) that appends to or rewrites `temp`. */
async function attemptOnce(target: DownloadTarget, temp: string, state: AttemptState, options: DownloadOptions, label: string): Promise<void> {
  // An unknown size is learned from the server's answer below.
  let size = target.size ?? Number.POSITIVE_INFINITY;
  const stallMs = options.stallTimeoutMs ?? 30_000;
  const maxRedirects = options.maxRedirects ?? 10;
  let offset = await fileSize(temp);
  if (offset > size) {
    await rm(temp, { force: true });
    offset = 0;
  }
  let hash = createHash('sha256');
  if (offset > 0) await hashPrefixInto(hash, temp);

  let current: ClientRequest | undefined;
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const armStall = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      current?.destroy(new Error('stalled'));
    }, stallMs);
  };
  const stallError = () => new AttemptError('transient', `no data received for ${stallMs / 1000} s (stalled connection)`);
  const onAbort = () => current?.destroy(new Error('interrupted'));
  options.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    let url = target.url;
    let res: IncomingMessage;
    for (let hops = 0; ; hops++) {
      const headers: Record<string, string> = { 'user-agent': 'samlite', 'accept-encoding': 'identity' };
      if (offset > 0) {
        headers.range = `bytes=${offset}-`;
        if (state.validator) headers['if-range'] = state.validator;
      }
      armStall();
      if (options.signal?.aborted) throw new Error('interrupted');
      try {
        res = await request(url, headers, (req) => (current = req));
      } catch (err) {
        if (stalled) throw stallError();
        throw err;
      }
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (hops >= maxRedirects) throw new AttemptError('permanent', `more than ${maxRedirects} redirects`);
        url = new URL(res.headers.location, url).href;
        continue;
      }
      break;
    }

    const status = res.statusCode ?? 0;
    const cap = options.maxRetryDelayMs ?? 30_000;
    if (status === 416) {
      res.resume();
      throw new AttemptError('restart', 'server refused the resume range (HTTP 416)');
    }
    if (status === 408 || status === 429 || status >= 500) {
      res.resume();
      throw new AttemptError('transient', `HTTP ${status} ${res.statusMessage ?? ''}`.trim(), retryAfterMs(res.headers['retry-after'], cap));
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw new AttemptError('permanent', `HTTP ${status} ${res.statusMessage ?? ''}`.trim());
    }
    const etag = res.headers.etag;
    const validator = etag && !etag.startsWith('W/') ? etag : res.headers['last-modified'];

    let append = false;
    let rangeIgnored = false;
    if (status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
      if (range && target.size === undefined && range[3] !== '*') size = Number(range[3]);
      if (!range || Number(range[1]) !== offset || (range[3] !== '*' && Number(range[3]) !== size)) {
        res.resume();
        throw new AttemptError('restart', `server answered the resume request with Content-Range ${JSON.stringify(res.headers['content-range'] ?? '')} (wanted bytes ${offset}- of ${size})`);
      }
      append = true;
    } else {
      // 200: the whole file, either because no range was asked or because the server does
      // not do ranges (or the file changed, per If-Range). Start over.
      if (offset > 0) {
        hash = createHash('sha256');
        offset = 0;
        rangeIgnored = true;
      }
      const length = res.headers['content-length'];
      if (length !== undefined && target.size === undefined) size = Number(length);
      if (length !== undefined && Number(length) !== size) {
        res.resume();
        throw new AttemptError('wrong-content', `server sent ${length} bytes where ${size} were expected (an error page?)`);
      }
    }
    if (validator) state.validator = validator;
    // Only now is it known where the bytes start: a server may ignore the Range asked for.
    options.onEvent?.({ type: 'start', label, source: target.url, size, offset, ...(rangeIgnored ? { rangeIgnored: true } : {}) });

    let received = 0;
    const file = createWriteStream(temp, { flags: append ? 'a' : 'w' });
    // A failed open or write also rejects the write in flight (or `finished`) below.
    file.on('error', () => undefined);
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        if (offset + received + chunk.length > size) throw new AttemptError('wrong-content', `server sent more than the expected ${size} bytes`);
        hash.update(chunk);
        armStall();
        await writeChunk(file, chunk);
        received += chunk.length;
        // Reported once written: every byte a 'progress' event counts is in the partial
        // file, where an interrupted or failed attempt resumes from.
        options.onEvent?.({ type: 'progress', label, received: offset + received, size });
      }
      file.end();
      await finished(file);
    } catch (err) {
      file.destroy();
      await finished(file).catch(() => undefined);
      if (stalled) throw stallError();
      throw err;
    }
    if (size === Number.POSITIVE_INFINITY) size = offset + received; // no length given: the hash decides
    if (offset + received < size) {
      // A response that ended cleanly but short is a different file (an error page sent
      // without Content-Length); a cut connection surfaces as an error above instead.
      if (res.complete) throw new AttemptError('wrong-content', `server sent ${offset + received} bytes where ${size} were expected (an error page?)`);
      throw new AttemptError('transient', `connection closed after ${offset + received} of ${size} bytes`);
    }
    const digest = hash.digest('hex');
    if (digest !== target.sha256) {
      throw new AttemptError('wrong-content', `sha256 mismatch: expected ${target.sha256}, got ${digest}`);
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Download `target.url` to `target.dest`, verified. Resumes a partial left by an earlier run,
 * retries transient failures (network errors, stalls, HTTP 408/429/5xx) with backoff, and
 * retries a size or hash mismatch once from scratch. Throws a DownloadError naming the URL
 * and the reason when it gives up; `dest` is then untouched.
 */
export async function downloadVerified(target: DownloadTarget, options: DownloadOptions = {}): Promise<void> {
  const label = target.label ?? basename(target.dest);
  const retries = options.retries ?? 4;
  const temp = ownTempPath(target.dest, target.sha256);
  await claimLeftover(target.dest, target.sha256, temp);
  const state: AttemptState = {};
  let attempts = 0;
  let failures = 0;
  let wrongContent = 0;
  let unreachable = 0;
  // Interrupted: park what was received for the next run, and say how much.
  const stopInterrupted = async () => interrupted(label, await park(temp, target, 'transient'), target.size);
  for (;;) {
    attempts++;
    try {
      if (target.size !== undefined && (await fileSize(temp)) === target.size) {
        // A complete-looking partial (killed between download and rename): check it locally.
        const digest = await sha256File(temp);
        if (digest !== target.sha256) throw new AttemptError('wrong-content', `sha256 mismatch: expected ${target.sha256}, got ${digest}`);
      } else {
        await attemptOnce(target, temp, state, options, label);
      }
      const bytes = await fileSize(temp);
      await moveIntoPlace(temp, target.dest);
      options.onEvent?.({ type: 'done', label, size: bytes });
      return;
    } catch (err) {
      if (options.signal?.aborted) throw await stopInterrupted();
      const failure = classifyError(err);
      let giveUp = failure.kind === 'permanent';
      if (failure.kind === 'wrong-content') {
        await rm(temp, { force: true });
        giveUp = ++wrongContent > 1;
      } else if (failure.kind === 'restart') {
        await rm(temp, { force: true });
        state.validator = undefined;
      } else if (failure.kind === 'unreachable') {
        giveUp = ++unreachable > 1;
      }
      if (failure.kind !== 'wrong-content') failures++;
      if (failures > retries) giveUp = true;
      if (giveUp) {
        await park(temp, target, failure.kind);
        const tries = attempts > 1 ? ` (gave up after ${attempts} attempts)` : '';
        const hint = failure.kind === 'unreachable' && options.unreachableHint ? `; ${options.unreachableHint}` : '';
        const what = failure.kind === 'unreachable' ? `cannot reach ${new URL(target.url).host}: ${failure.message}` : failure.message;
        throw new DownloadError(`could not download ${target.url}: ${what}${tries}${hint}`, { cause: err });
      }
      const delayMs = failure.retryAfterMs ?? backoffMs(failures + wrongContent, options);
      options.onEvent?.({ type: 'retry', label, source: target.url, attempt: attempts + 1, reason: failure.message, delayMs });
      await sleep(delayMs, options.signal);
      if (options.signal?.aborted) throw await stopInterrupted();
    }
  }
}

/** Keep resumable bytes under the parked name for the next run; drop anything else. Returns the bytes kept. */
async function park(temp: string, target: DownloadTarget, kind: FailureKind): Promise<number> {
  const size = await fileSize(temp);
  // Bytes that failed a check (wrong content, bad resume) are not worth resuming.
  if (size > 0 && (target.size === undefined || size < target.size) && kind !== 'wrong-content' && kind !== 'restart') {
    try {
      await rename(temp, parkedPath(target.dest, target.sha256));
      return size;
    } catch {
      // Not kept after all; fall through to removing it.
    }
  }
  await rm(temp, { force: true });
  return 0;
}

/**
 * Copy a file from a local mirror folder to `target.dest`, hashing as it goes; the same
 * size and sha256 checks apply as for a download.
 */
export async function copyVerified(source: string, target: Omit<DownloadTarget, 'url'>, options: Pick<DownloadOptions, 'onEvent' | 'signal'> = {}): Promise<void> {
  const label = target.label ?? basename(target.dest);
  let size: number;
  try {
    size = (await stat(source)).size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DownloadError(`mirror file ${source} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`, { cause: err });
  }
  if (target.size !== undefined && size !== target.size) throw new DownloadError(`mirror file ${source} is ${size} bytes, expected ${target.size}`);
  const temp = ownTempPath(target.dest, target.sha256);
  const hash = createHash('sha256');
  let received = 0;
  let lastReport = 0;
  options.onEvent?.({ type: 'start', label, source, size, offset: 0 });
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      const now = Date.now();
      if (now - lastReport >= 100) {
        lastReport = now;
        options.onEvent?.({ type: 'progress', label, received, size });
      }
      callback(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(source), meter, createWriteStream(temp), { signal: options.signal });
    const digest = hash.digest('hex');
    if (received !== size || digest !== target.sha256) {
      throw new DownloadError(`mirror file ${source} does not match: expected sha256 ${target.sha256}, got ${digest}`);
    }
    await moveIntoPlace(temp, target.dest);
  } catch (err) {
    await rm(temp, { force: true });
    // A local copy is quick to redo: nothing is kept.
    if (options.signal?.aborted) throw new InterruptedError(`${label}: interrupted while copying from the mirror`);
    if (err instanceof DownloadError) throw err;
    throw new DownloadError(`could not copy mirror file ${source}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  options.onEvent?.({ type: 'progress', label, received: size, size });
  options.onEvent?.({ type: 'done', label, size });
}
