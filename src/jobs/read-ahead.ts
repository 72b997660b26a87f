/**
 * Images decoded before their turn: a run starts decoding its first images while the model
 * loads (sharp decodes on libuv's threads while onnxruntime builds the session), so a
 * one-image run costs the longer of the two rather than their sum. The load blocks the main
 * thread, so it must start only once the decodes are running ({@link decodesRunning}):
 * started before, it holds up the file reads and header checks that come first, and the
 * decode follows the load instead of running beside it (measured: a 12 MP JPEG's decode
 * ended at open + decode, 205-229 ms, rather than at 160-167 ms).
 */
import { loadImage, type LoadImageOptions } from '../image/load.js';
import type { LoadedImage } from '../image/types.js';

/** Decodes started early, each taken once by the job that needs it. */
export class ImageReadAhead {
  private readonly started = new Map<string, Promise<LoadedImage>>();
  private readonly running: Promise<void>[] = [];

  /** Start decoding `path`; its failure is reported when it is taken, not before. */
  start(path: string, options: LoadImageOptions): void {
    if (this.started.has(path)) return;
    let running!: () => void;
    this.running.push(new Promise<void>((resolve) => (running = resolve)));
    const image = loadImage(path, {
      ...options,
      onDecodeStart: () => {
        running();
        options.onDecodeStart?.();
      },
    });
    // Settles `running` for an image that fails before its decode too, and handles the
    // rejection here: it is reported when the image is taken, or dropped when the run stops first.
    image.then(running, running);
    this.started.set(path, image);
  }

  /** Resolves when every image started so far is decoding on sharp's threads, or is done or failed. */
  decodesRunning(): Promise<void> {
    return Promise.all(this.running).then(() => undefined);
  }

  /** `path`'s image: the decode started for it, or a new one with `options`. */
  take(path: string, options: LoadImageOptions): Promise<LoadedImage> {
    const early = this.started.get(path);
    if (!early) return loadImage(path, options);
    this.started.delete(path);
    return early;
  }
}
