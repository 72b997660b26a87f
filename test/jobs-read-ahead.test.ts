/**
 * The read-ahead that decodes a run's first images while the model loads: a decode started
 * early is the one the job gets, and a file that cannot be read fails when its job takes it
 * (as the image's own failure), never before or as an unhandled rejection.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadImage } from '../src/image/load.js';
import { ImageReadAhead } from '../src/jobs/read-ahead.js';
import { InputError } from '../src/util/errors.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'box.png');

describe('ImageReadAhead', () => {
  it('hands a job the decode started for its image, once', async () => {
    const ahead = new ImageReadAhead();
    ahead.start(fixture, {});
    const image = await ahead.take(fixture, {});
    const again = await loadImage(fixture);
    expect({ width: image.width, height: image.height }).toEqual({ width: again.width, height: again.height });
    expect(Buffer.from(image.data).equals(Buffer.from(again.data))).toBe(true);
    // Taken once: the next take decodes anew (a new object).
    expect(await ahead.take(fixture, {})).not.toBe(image);
  });

  it('reports an unreadable image when its job takes it', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const ahead = new ImageReadAhead();
      const missing = join(import.meta.dirname, 'no-such-image.png');
      ahead.start(missing, { source: 'no-such-image.png' });
      await expect(ahead.take(missing, {})).rejects.toBeInstanceOf(InputError);
      // Any unhandled rejection would have been reported by the next turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      await expect(ahead.take(missing, { source: 'again.png' })).rejects.toThrow(/again\.png/);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('says when the decodes are running, before they end, so the model load can start beside them', async () => {
    const events: string[] = [];
    let inFlight = 0;
    const ahead = new ImageReadAhead();
    ahead.start(fixture, {
      onDecodeStart: () => {
        events.push('decode started');
        const { queue, process } = sharp.counters();
        inFlight = queue + process;
      },
    });
    const running = ahead.decodesRunning().then(() => events.push('running'));
    const image = ahead.take(fixture, {}).then(() => events.push('decoded'));
    await Promise.all([running, image]);
    // The decode's end comes back through libuv; the start is reported in the same turn as it begins.
    expect(events).toEqual(['decode started', 'running', 'decoded']);
    expect(inFlight, "sharp's tasks queued or running when the start was reported").toBeGreaterThanOrEqual(1);
  });

  it('does not wait for an image that fails before its decode, and never reports its start', async () => {
    const starts: string[] = [];
    const ahead = new ImageReadAhead();
    const missing = join(import.meta.dirname, 'no-such-image.png');
    ahead.start(missing, { onDecodeStart: () => starts.push(missing) });
    ahead.start(fixture, { onDecodeStart: () => starts.push(fixture) });
    await ahead.decodesRunning();
    expect(starts).toEqual([fixture]);
    await expect(ahead.take(missing, {})).rejects.toBeInstanceOf(InputError);
    await ahead.take(fixture, {});
    // With nothing started, there is nothing to wait for.
    await new ImageReadAhead().decodesRunning();
  });
});
