/**
 * Images decoded before their turn: a run starts decoding its first images while the model
 * loads (sharp decodes on libuv's threads while onnxruntime builds the session), so a
 * one-image run costs the longer of the two rather than their sum.
 */
import { loadImage, type LoadImageOptions } from '../image/load.js';
import type { LoadedImage } from '../image/types.js';

/** Decodes started early, each taken once by the job that needs it. */
export class ImageReadAhead {
  private readonly started = new Map<string, Promise<LoadedImage>>();

  /** Start decoding `path`; its failure is reported when it is taken, not before. */
  start(path: string, options: LoadImageOptions): void {
    if (this.started.has(path)) return;
    const image = loadImage(path, options);
    image.catch(() => undefined); // taken later, or dropped when the run stops first
    this.started.set(path, image);
  }

  /** `path`'s image: the decode started for it, or a new one with `options`. */
  take(path: string, options: LoadImageOptions): Promise<LoadedImage> {
    const early = this.started.get(path);
    if (!early) return loadImage(path, options);
    this.started.delete(path);
    return early;
  }
}
