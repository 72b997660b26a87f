/**
 * A lock file that keeps two samlite processes (or two pulls in one process) from
 * downloading the same model at once. The holder refreshes the file's mtime while it works,
 * so a lock left by a killed process is recognised as stale (dead pid on this host, or no
 * refresh for `staleMs`) and taken over.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InterruptedError } from '../util/errors.js';

export interface LockOptions {
  /** A lock not refreshed for this long is stale. Default 60 s. */
  staleMs?: number;
  /** Give up waiting after this long (default: wait as long as the holder is alive). */
  timeoutMs?: number;
  /** Poll interval while waiting. Default 250 ms. */
  pollMs?: number;
  /** Called once when the lock is busy, with the holder's pid. */
  onWait?: (holderPid: number | undefined) => void;
  /** Stop waiting when aborted (Ctrl-C), throwing an InterruptedError. */
  signal?: AbortSignal;
}

/** Releases a held lock; safe to call twice. */
export type ReleaseLock = () => Promise<void>;

interface LockContent {
  pid: number;
  host: string;
  nonce: string;
}

/** Thrown when {@link LockOptions.timeoutMs} passes before the lock frees up. */
export class LockTimeoutError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holderPid: number | undefined,
  ) {
    super(`${lockPath} is held by another samlite process${holderPid ? ` (pid ${holderPid})` : ''}`);
  }
}

/** Whether process `pid` exists on this machine (a lock or partial file's writer is still alive). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(path: string): Promise<LockContent | undefined> {
  try {
    const content = JSON.parse(await readFile(path, 'utf8')) as Partial<LockContent>;
    if (typeof content.pid === 'number' && typeof content.host === 'string' && typeof content.nonce === 'string') return content as LockContent;
  } catch {
    // Unreadable or half-written: judged by its age alone.
  }
  return undefined;
}

async function isStale(path: string, content: LockContent | undefined, staleMs: number): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(path)).mtimeMs;
  } catch {
    return false; // gone already: the next create attempt will tell
  }
  if (Date.now() - mtimeMs > staleMs) return true;
  return content !== undefined && content.host === hostname() && !pidAlive(content.pid);
}

/**
 * Move a stale lock out of the way without clobbering a fresh one that another waiter may
 * have created in between: rename it aside, and if what was moved is not the lock judged
 * stale, hard-link it back (link never overwrites).
 */
async function breakStaleLock(path: string, judged: LockContent | undefined): Promise<void> {
  const aside = `${path}.stale.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const moved = await readLock(aside);
  if (judged && moved && moved.nonce !== judged.nonce) {
    await link(aside, path).catch(() => undefined);
  }
  await rm(aside, { force: true });
}

/** Take the lock at `path`, waiting while a live holder has it. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<ReleaseLock> {
  const staleMs = options.staleMs ?? 60_000;
  const pollMs = options.pollMs ?? 250;
  const started = Date.now();
  const content: LockContent = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString('hex') };
  let told = false;
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(JSON.stringify(content));
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readLock(path);
    if (await isStale(path, holder, staleMs)) {
      await breakStaleLock(path, holder);
      continue;
    }
    if (!told) {
      told = true;
      options.onWait?.(holder?.pid);
    }
    if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) throw new LockTimeoutError(path, holder?.pid);
    if (options.signal?.aborted) throw new InterruptedError(`interrupted while waiting for ${path}`);
    await new Promise((done) => setTimeout(done, pollMs));
  }

  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, Math.max(50, Math.floor(staleMs / 4)));
  heartbeat.unref();

  let released = false;
  return async () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    // Only remove the lock if it is still ours (it may have been broken as stale).
    const current = await readLock(path);
    if (current?.nonce === content.nonce) await rm(path, { force: true });
  };
}

/** The pid holding the lock at `path` if a live process holds it, else undefined. */
export async function lockHolder(path: string, staleMs = 60_000): Promise<number | undefined> {
  const holder = await readLock(path);
  if (!holder) return undefined;
  return (await isStale(path, holder, staleMs)) ? undefined : holder.pid;
}
