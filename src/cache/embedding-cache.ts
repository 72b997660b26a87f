import { createHash } from 'node:crypto';
import type { RgbImage } from '../image/types.js';
import type { ImageEmbedding } from '../families/types.js';

/**
 * Where image embeddings are kept between prompts. The encoder is by far the most
 * expensive step, and an annotator clicks many times on one image.
 */
export interface EmbeddingCache {
  get(key: string): Promise<ImageEmbedding | undefined>;
  set(key: string, embedding: ImageEmbedding): Promise<void>;
}

/**
 * Cache key for `image` under a model: the model's identity plus a hash of the decoded
 * pixels (not the file bytes), so the same picture re-saved or renamed still hits.
 */
export function embeddingKey(modelIdentity: string, image: RgbImage): string {
  const h = createHash('sha256');
  h.update(modelIdentity);
  h.update(`\0${image.width}x${image.height}\0`);
  h.update(image.data);
  return h.digest('hex');
}

/** Keeps the last `capacity` embeddings in memory (4 MB each). */
export class MemoryEmbeddingCache implements EmbeddingCache {
  private readonly entries = new Map<string, ImageEmbedding>();

  constructor(private readonly capacity = 4) {}

  async get(key: string): Promise<ImageEmbedding | undefined> {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-insert to mark as most recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  async set(key: string, embedding: ImageEmbedding): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, embedding);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/**
 * Several caches in order, fastest first: a hit in a slower one is copied into the faster
 * ones, and new embeddings go into all of them.
 */
export class TieredEmbeddingCache implements EmbeddingCache {
  private readonly tiers: readonly EmbeddingCache[];

  constructor(...tiers: EmbeddingCache[]) {
    this.tiers = tiers;
  }

  async get(key: string): Promise<ImageEmbedding | undefined> {
    for (const [i, tier] of this.tiers.entries()) {
      const hit = await tier.get(key);
      if (hit) {
        await Promise.all(this.tiers.slice(0, i).map((t) => t.set(key, hit)));
        return hit;
      }
    }
    return undefined;
  }

  async set(key: string, embedding: ImageEmbedding): Promise<void> {
    await Promise.all(this.tiers.map((t) => t.set(key, embedding)));
  }
}
