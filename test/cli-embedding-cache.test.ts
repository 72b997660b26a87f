/**
 * The on-disk embedding cache end to end (`samlite segment --cache-dir`): a damaged, stale
 * or unwritable cache costs an encoder run and one warning line, never a wrong or failed
 * answer; and onnxruntime's own log records never reach a piped stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../scripts/fixtures/index.js';
import { decodeEntry, encodeEntry } from '../src/cache/disk-embedding-cache.js';
import type { ImageEmbedding } from '../src/families/types.js';
import { BIN, assertBuilt, runSamlite, type CliRun } from './helpers/run-cli.js';

let work: string;
let home: string;
/** The masks a run without any cache writes, to compare cached runs with. */
let reference: Record<string, Buffer>;

const IMAGES = [fixturePath('landscape.png'), fixturePath('box.png')];
const POINT = ['--point', '160,120'];
/** The builtin SAM embedding: 1x256x64x64 float32 at the end of the file. */
const EMBEDDING_BYTES = 256 * 64 * 64 * 4;

function samlite(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runSamlite(args, { cwd: work, env: { HOME: work, SAMLITE_HOME: home, ...env } });
}

/** The mask files a run wrote under `out`, by name. */
function masks(out: string): Record<string, Buffer> {
  return Object.fromEntries(readdirSync(out).map((name) => [name, readFileSync(join(out, name))]));
}

/** Fill one cache folder with the first image's entry; returns the entry's path. */
async function cacheOf(name: string): Promise<string> {
  const dir = join(work, name);
  const run = await samlite(['segment', IMAGES[0]!, ...POINT, '--cache-dir', dir, '--out', join(work, `${name}-fill`)]);
  expect(run.code, run.stderr).toBe(0);
  const entries = readdirSync(dir);
  expect(entries).toHaveLength(1);
  return join(dir, entries[0]!);
}

/** Both images with the cache in `dir`; checks the answers equal the uncached ones. */
async function segmentBoth(dir: string, name: string, env: Record<string, string> = {}): Promise<CliRun> {
  const out = join(work, name);
  const run = await samlite(['segment', ...IMAGES, ...POINT, '--cache-dir', dir, '--out', out], env);
  expect(run.code, run.stderr).toBe(0);
  expect(masks(out)).toEqual(reference);
  return run;
}

/** stderr without the built-in model's notice, which every run here prints. */
function warnings(run: CliRun): string[] {
  return run.stderr.split('\n').filter((line) => line.startsWith('warning:'));
}

beforeAll(async () => {
  assertBuilt();
  work = mkdtempSync(join(tmpdir(), 'samlite-cli-cache-'));
  home = mkdtempSync(join(tmpdir(), 'samlite-cli-cache-home-'));
  const run = await samlite(['segment', ...IMAGES, ...POINT, '--no-cache', '--out', join(work, 'reference')]);
  expect(run.code, run.stderr).toBe(0);
  reference = masks(join(work, 'reference'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('a damaged or stale entry', () => {
  it('64 bytes of 0x7f inside an entry: one warning naming the file, both images answered as without a cache', async () => {
    const file = await cacheOf('damaged');
    const bytes = readFileSync(file);
    // The middle of the label planes, which the built-in decoder indexes with.
    const at = bytes.length - EMBEDDING_BYTES + EMBEDDING_BYTES / 8;
    writeFileSync(file, bytes.fill(0x7f, at, at + 64));
    const run = await segmentBoth(join(work, 'damaged'), 'damaged-out');
    expect(warnings(run)).toEqual([`warning: embedding cache: ${file} is damaged (checksum mismatch); dropped it, the embedding is computed again`]);
    // Computed again and stored sound: the next run reads it without a word.
    expect(decodeEntry(readFileSync(file), file.replace(/^.*\//, '').replace('.emb', ''))).toHaveProperty('data');
    expect(warnings(await segmentBoth(join(work, 'damaged'), 'damaged-again'))).toEqual([]);
  });

  it('an entry of the previous format is a quiet miss, rewritten in the current one', async () => {
    const file = await cacheOf('stale');
    const key = file.replace(/^.*\//, '').replace('.emb', '');
    const e = decodeEntry(readFileSync(file), key) as ImageEmbedding;
    const head = `${JSON.stringify({ magic: 'samlite-embedding-1', family: e.family, modelKey: e.modelKey, image: e.image, dims: e.dims })}\n`;
    writeFileSync(file, Buffer.concat([Buffer.from(head.padEnd(head.length + ((4 - (head.length % 4)) % 4), ' ')), Buffer.from(e.data.buffer)]));
    const run = await segmentBoth(join(work, 'stale'), 'stale-out');
    expect(warnings(run)).toEqual([]);
    expect(decodeEntry(readFileSync(file), key)).toEqual(e);
  });
});

describe('a cache that cannot be written', () => {
  it('a file where the default cache folder goes: one warning, the run goes on uncached', async () => {
    const blocked = mkdtempSync(join(tmpdir(), 'samlite-cli-cache-blocked-'));
    try {
      writeFileSync(join(blocked, 'embeddings'), 'not a folder');
      const out = join(work, 'blocked-out');
      const run = await samlite(['segment', ...IMAGES, ...POINT, '--out', out], { SAMLITE_HOME: blocked });
      expect(run.code, run.stderr).toBe(0);
      expect(masks(out)).toEqual(reference);
      expect(warnings(run)).toEqual([
        `warning: embedding cache: cannot write to ${join(blocked, 'embeddings')} (a file is in the way of the folder); going on without storing embeddings`,
      ]);
    } finally {
      rmSync(blocked, { recursive: true, force: true });
    }
  });

  // A read-only or full file system, for real: a tmpfs mounted in a private mount namespace
  // (unshare -m), gone with the process. Root ignores permission bits, so a chmod cannot do it.
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$1"', 'sh', tmpdir()], { encoding: 'utf8' });
  const cannotMount = probe.status === 0 ? undefined : (probe.error?.message ?? probe.stderr.trim()) || `exit ${probe.status}`;
  if (cannotMount) console.warn(`skipped: the read-only and full --cache-dir tests need unshare -m and mount (root): ${cannotMount}`);

  it.skipIf(cannotMount !== undefined).each([
    ['read-only', 'size=8m', 'mount -o remount,ro tmpfs "$1"', 'read-only file system'],
    // Room for the one entry copied in (4 MiB), not for a second.
    ['full', 'size=6m', 'true', 'no space left on device'],
  ])('a %s file system: one warning, the run goes on uncached', async (name, size, after, reason) => {
    const entry = await cacheOf(`mounted-${name}`);
    const dir = join(work, `${name}-mount`);
    mkdirSync(dir);
    const out = join(work, `${name}-out`);
    // Mount, put the first image's entry in (a hit: only the second image needs a write), make
    // the file system unwritable, run.
    const script = `mount -t tmpfs -o ${size} tmpfs "$1" && cp "$2" "$1"/ && ${after} && exec "$3" "$4" segment "$5" "$6" --point 160,120 --cache-dir "$1" --out "$7"`;
    const result = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', dir, entry, process.execPath, BIN, ...IMAGES, out], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '', HOME: work, SAMLITE_HOME: home },
      encoding: 'utf8',
    });
    const run: CliRun = { code: result.status, stdout: result.stdout, stderr: result.stderr };
    expect(run.code, run.stderr).toBe(0);
    expect(masks(out)).toEqual(reference);
    expect(warnings(run)).toEqual([`warning: embedding cache: cannot write to ${dir} (${reason}); going on without storing embeddings`]);
  });
});

describe("onnxruntime's own log", () => {
  /** A sound (checksummed) entry whose label planes send the built-in decoder out of range. */
  async function poisonedCache(): Promise<string> {
    const file = await cacheOf('poisoned');
    const key = file.replace(/^.*\//, '').replace('.emb', '');
    const e = decodeEntry(readFileSync(file), key) as ImageEmbedding;
    e.data.fill(1e9, 0, 4 * 65536);
    writeFileSync(file, encodeEntry(key, e));
    return join(work, 'poisoned');
  }

  it('a model that fails to run leaves one samlite line on a piped stderr; SAMLITE_ORT_LOG shows the record', async () => {
    const dir = await poisonedCache();
    const args = ['segment', IMAGES[0]!, ...POINT, '--cache-dir', dir, '--out', join(work, 'poisoned-out'), '--quiet'];
    const run = await samlite(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: builtin-sam-decoder\.onnx: the decoder failed to run \(.+\)\n$/);
    expect(run.stderr).not.toContain('\x1b');

    const developer = await samlite(args, { SAMLITE_ORT_LOG: 'error' });
    expect(developer.code).toBe(2);
    expect(developer.stderr).toMatch(/\[E:onnxruntime:.*ExecuteKernel/);

    const typo = await samlite(args, { SAMLITE_ORT_LOG: 'loud' });
    expect(typo).toMatchObject({ code: 2, stderr: 'error: SAMLITE_ORT_LOG="loud": expected one of verbose, info, warning, error, fatal\n' });
  });
});
