/**
 * An output file written piece by piece over a long run and appearing whole at its end:
 * the push-style twin of writeStreamAtomic, for writers fed by events (objects finishing
 * one by one) rather than by a loop that can run inside a callback.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { withTempFile } from './atomic-write.js';

/** An atomic output open for writing. */
export interface AtomicStream {
  /** Append `chunk`; resolves when the stream can take more (back-pressure). */
  write(chunk: string | Uint8Array): Promise<void>;
  /** Flush, close and rename into place. */
  close(): Promise<void>;
  /** Close and remove the temporary file; nothing appears at the final path. */
  abort(): Promise<void>;
}

class Aborted extends Error {}

/**
 * Open `finalPath` for writing through a temporary file beside it (parent folders
 * created), registered for the interrupt handler like every atomic write.
 */
export async function openAtomicStream(finalPath: string): Promise<AtomicStream> {
  let ready!: (out: WriteStream) => void;
  let failedEarly!: (err: unknown) => void;
  const opened = new Promise<WriteStream>((resolve, reject) => {
    ready = resolve;
    failedEarly = reject;
  });
  let settle!: { done: () => void; fail: (err: unknown) => void };
  const filled = withTempFile(finalPath, (tmp) => {
    const out = createWriteStream(tmp);
    return new Promise<void>((resolve, reject) => {
      settle = { done: resolve, fail: reject };
      out.once('open', () => ready(out));
      out.once('error', (err) => {
        failedEarly(err);
        reject(err);
      });
    });
  });
  // A failure to open surfaces through `opened`; keep the outer promise from going unhandled.
  filled.catch(() => undefined);
  const out = await opened;
  let failure: Error | undefined;
  out.on('error', (err) => {
    failure ??= err;
  });
  return {
    async write(chunk) {
      if (failure) throw failure;
      if (!out.write(chunk)) await once(out, 'drain');
    },
    async close() {
      if (failure) throw failure;
      out.end();
      await finished(out);
      settle.done();
      await filled;
    },
    async abort() {
      out.destroy();
      await finished(out).catch(() => undefined);
      settle.fail(new Aborted('aborted'));
      await filled.catch(() => undefined);
    },
  };
}
