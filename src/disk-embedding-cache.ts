import { mkdir, readFile, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { FamilyName, ImageEmbedding } from './families/types.js';
import type { EmbeddingCache } from './embedding-cache.js';
import { writeFileAtomic } from './util/atomic-write.js';

const MAGIC = 'samlite-embedding-1';
const SUFFIX = '.emb';

/** Default size cap of the on-disk cache: about 250 embeddings of 4 MB. */
export const DEFAULT_DISK_CACHE_BYTES = 1024 ** 3;

interface Header {
  magic: string;
  family: FamilyName;
  modelKey: string;
  image: { width: number; height: number };
  dims: number[];
}

/**
 * Embeddings on disk, one file per (model, image content) key, so a second
 * `samlite segment` on the same image skips the encoder even in a new process.
 *
 * A file is a JSON header line followed by the float32 data, exactly as the encoder
 * returned it (no float16: the built-in models store integer labels up to 65535 in their
 * embedding). Files are written atomically; a file that does not parse is treated as a miss
 * and removed. Reads refresh the file's mtime, and writes evict the least recently used
 * files past `maxBytes`.
 */
export class DiskEmbeddingCache implements EmbeddingCache {
  constructor(
    /** Cache folder (created on first write). */
    readonly dir: string,
    private readonly maxBytes = DEFAULT_DISK_CACHE_BYTES,
  ) {}

  private path(key: string): string {
    return join(this.dir, `${key}${SUFFIX}`);
  }

  async get(key: string): Promise<ImageEmbedding | undefined> {
    const path = this.path(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      return undefined;
    }
    const embedding = decode(bytes);
    if (!embedding) {
      await rm(path, { force: true });
      return undefined;
    }
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined);
    return embedding;
  }

  async set(key: string, embedding: ImageEmbedding): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.path(key), encode(embedding));
    await this.evict();
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

function encode(e: ImageEmbedding): Buffer {
  const header: Header = { magic: MAGIC, family: e.family, modelKey: e.modelKey, image: { ...e.image }, dims: [...e.dims] };
  const head = Buffer.from(`${JSON.stringify(header)}\n`);
  // Pad the header so the float data starts 4-byte aligned and can be viewed in place.
  const pad = (4 - (head.length % 4)) % 4;
  const data = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
  return Buffer.concat([head, Buffer.alloc(pad, 0x20), data]);
}

function decode(bytes: Buffer): ImageEmbedding | undefined {
  const newline = bytes.indexOf(0x0a);
  if (newline < 0) return undefined;
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as Header;
  } catch {
    return undefined;
  }
  if (header.magic !== MAGIC || !Array.isArray(header.dims)) return undefined;
  const start = newline + 1 + ((4 - ((newline + 1) % 4)) % 4);
  const count = header.dims.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== count * 4) return undefined;
  // Copy into a fresh, aligned buffer owned by the embedding.
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(bytes.subarray(start));
  return { family: header.family, modelKey: header.modelKey, image: header.image, data, dims: header.dims };
}
