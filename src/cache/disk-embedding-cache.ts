import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { EmbeddingTensor, FamilyName, ImageEmbedding, Size } from '../families/types.js';
import type { EmbeddingCache } from './embedding-cache.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { fileWriteReason } from '../util/fs-reason.js';

/**
 * Format revision of the files. Bump it whenever the layout changes: entries of any other
 * revision are misses (computed again and replaced), never misread.
 */
export const DISK_CACHE_FORMAT = 2;
const MAGIC = 'samlite-embedding-';
const SUFFIX = '.emb';
/** The first line: magic, revision, a space and the hex sha256 of every byte after the line. */
const FIRST_LINE = `${MAGIC}${DISK_CACHE_FORMAT} `;
const FIRST_LINE_LENGTH = FIRST_LINE.length + 64 + 1;

/** Default size cap of the on-disk cache: about 250 embeddings of 4 MB. */
export const DEFAULT_DISK_CACHE_BYTES = 1024 ** 3;

export interface DiskEmbeddingCacheOptions {
  /** Most bytes the folder may hold; least recently used entries go first. Default 1 GiB. */
  readonly maxBytes?: number;
  /**
   * Told, in one line, about a damaged entry (dropped and computed again) and about a folder
   * that cannot be written (the run goes on without storing). Default: Node's warning
   * channel, as a library should not write to stderr on its own.
   */
  readonly onNotice?: (message: string) => void;
}

/** The JSON line after the first: what the float data that follows holds, in order. */
interface Header {
  /** The cache key the entry was stored under: a renamed or copied file is not a hit. */
  key: string;
  family: FamilyName;
  modelKey: string;
  image: Size;
  dims: number[];
  /** `ImageEmbedding.extra`, in the order their data follows `data`. */
  extra: { name: string; dims: number[] }[];
}

/** Why a file was not used: an entry of another format revision, or one that is damaged. */
type Refusal = { stale: true } | { stale: false; why: string };

/**
 * Embeddings on disk, one file per (model, image content) key, so a second
 * `samlite segment` on the same image skips the encoder even in a new process.
 *
 * A file is a first line naming the format revision and the sha256 of the rest, a JSON
 * header line, then the float32 tensors exactly as the encoder returned them (no float16:
 * the built-in models store integer labels up to 65535 in their embedding), the main one
 * first and then `extra`'s. Files are written atomically. A file whose checksum, size or
 * key does not match is damaged: it is removed, reported through `onNotice` and treated
 * as a miss, so a bad disk, a stray write or a copy from elsewhere costs an encoder run,
 * never a wrong or failed answer. A folder that cannot be written is reported once and
 * the cache then only reads. Reads refresh the file's mtime, and writes evict the least
 * recently used files past `maxBytes`.
 */
export class DiskEmbeddingCache implements EmbeddingCache {
  private readonly maxBytes: number;
  private readonly notice: (message: string) => void;
  /** Set after the first failed write: said once, then writes are skipped. */
  private unwritable = false;

  constructor(
    /** Cache folder (created on first write). */
    readonly dir: string,
    /** Options, or the size cap alone (`maxBytes`). */
    options: DiskEmbeddingCacheOptions | number = {},
  ) {
    const { maxBytes = DEFAULT_DISK_CACHE_BYTES, onNotice = emitWarning } = typeof options === 'number' ? { maxBytes: options } : options;
    this.maxBytes = maxBytes;
    this.notice = onNotice;
  }

  private path(key: string): string {
    return join(this.dir, `${key}${SUFFIX}`);
  }

  async get(key: string): Promise<ImageEmbedding | undefined> {
    const path = this.path(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      // Missing, or unreadable: either way the encoder answers instead.
      return undefined;
    }
    const read = decodeEntry(bytes, key);
    if ('stale' in read) {
      if (!read.stale) {
        // Removal may fail on a read-only folder; the entry is refused either way.
        await rm(path, { force: true }).catch(() => undefined);
        this.notice(`embedding cache: ${path} is damaged (${read.why}); dropped it, the embedding is computed again`);
      }
      return undefined;
    }
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined);
    return read;
  }

  async set(key: string, embedding: ImageEmbedding): Promise<void> {
    if (this.unwritable) return;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(this.path(key), encodeEntry(key, embedding));
      await this.evict();
    } catch (err) {
      if (!(err as NodeJS.ErrnoException).code) throw err; // not the file system: a bug
      this.unwritable = true;
      this.notice(`embedding cache: cannot write to ${this.dir} (${fileWriteReason(err)}); going on without storing embeddings`);
    }
  }

  /** Delete the least recently used files until the cache fits in `maxBytes`. */
  private async evict(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith(SUFFIX));
    const files = await Promise.all(
      names.map(async (n) => {
        const s = await stat(join(this.dir, n)).catch(() => undefined);
        return { path: join(this.dir, n), size: s?.size ?? 0, used: s?.mtimeMs ?? 0 };
      }),
    );
    let total = files.reduce((n, f) => n + f.size, 0);
    for (const f of files.sort((a, b) => a.used - b.used)) {
      if (total <= this.maxBytes) break;
      await rm(f.path, { force: true });
      total -= f.size;
    }
  }
}

/** Node's warning channel: the default for notices. */
function emitWarning(message: string): void {
  process.emitWarning(message, { code: 'SAMLITE_EMBEDDING_CACHE' });
}

/** The tensors of an embedding in file order: `data` first, then `extra` by name. */
function tensorsOf(e: ImageEmbedding): { name: string; tensor: EmbeddingTensor }[] {
  return [{ name: '', tensor: e }, ...Object.entries(e.extra ?? {}).map(([name, tensor]) => ({ name, tensor }))];
}

/** The bytes of one cache file for `e` stored under `key`. */
export function encodeEntry(key: string, e: ImageEmbedding): Buffer {
  const tensors = tensorsOf(e);
  const header: Header = {
    key,
    family: e.family,
    modelKey: e.modelKey,
    image: { width: e.image.width, height: e.image.height },
    dims: [...e.dims],
    extra: tensors.slice(1).map(({ name, tensor }) => ({ name, dims: [...tensor.dims] })),
  };
  const head = Buffer.from(`${JSON.stringify(header)}\n`);
  // Pad so the float data starts 4-byte aligned in the file (the first line is too).
  const pad = Buffer.alloc((4 - ((FIRST_LINE_LENGTH + head.length) % 4)) % 4, 0x20);
  const body = [head, pad, ...tensors.map(({ tensor: t }) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
  const hash = createHash('sha256');
  for (const part of body) hash.update(part);
  return Buffer.concat([Buffer.from(`${FIRST_LINE}${hash.digest('hex')}\n`), ...body]);
}

/** The embedding in `bytes` if they are a sound entry for `key`, else why not. */
export function decodeEntry(bytes: Buffer, key: string): ImageEmbedding | Refusal {
  const first = bytes.subarray(0, FIRST_LINE_LENGTH).toString('latin1');
  if (!first.startsWith(FIRST_LINE)) {
    // Revision 1 began with a JSON header naming it; later ones with their magic line.
    const other = new RegExp(`^(\\{"magic":")?${MAGIC}\\d+[ "]`).test(first);
    return other ? { stale: true } : { stale: false, why: 'not a samlite embedding file' };
  }
  if (bytes.length < FIRST_LINE_LENGTH) return { stale: false, why: 'truncated' };
  const body = bytes.subarray(FIRST_LINE_LENGTH);
  if (`${createHash('sha256').update(body).digest('hex')}\n` !== first.slice(FIRST_LINE.length)) {
    return { stale: false, why: 'checksum mismatch' };
  }
  // The checksum held, so the header is what a samlite of this revision wrote.
  const newline = body.indexOf(0x0a);
  let header: Header;
  try {
    header = JSON.parse(body.subarray(0, newline).toString('utf8')) as Header;
  } catch {
    return { stale: false, why: 'unreadable header' };
  }
  if (header.key !== key) return { stale: false, why: 'it holds the entry of another key' };
  let at = FIRST_LINE_LENGTH + newline + 1;
  at += (4 - (at % 4)) % 4;
  const read = (dims: number[]): EmbeddingTensor | undefined => {
    const count = dims.reduce((a, b) => a * b, 1);
    if (at + count * 4 > bytes.length) return undefined;
    // Copy into a fresh, aligned buffer owned by the embedding.
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(at, at + count * 4));
    at += count * 4;
    return { data, dims };
  };
  const main = read(header.dims);
  const extra: Record<string, EmbeddingTensor> = {};
  for (const { name, dims } of header.extra) {
    const tensor = read(dims);
    if (!tensor) return { stale: false, why: 'its tensors do not fit its size' };
    extra[name] = tensor;
  }
  if (!main || at !== bytes.length) return { stale: false, why: 'its tensors do not fit its size' };
  return {
    family: header.family,
    modelKey: header.modelKey,
    image: header.image,
    data: main.data,
    dims: main.dims,
    ...(header.extra.length > 0 ? { extra } : {}),
  };
}
