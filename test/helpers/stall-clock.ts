/**
 * A clock for download tests that must see a stall: fake timers (setTimeout only), so no
 * time passes by itself and a pause of a loaded machine is never taken for a stall.
 */
import { vi } from 'vitest';

/** The stall timeout downloads use under {@link onStallClock}. */
export const STALL_MS = 300;

/** What the clock needs to know of a download's events (DownloadEvent and PullEvent are such). */
type ClockEvent = { type: string; delayMs?: number };

/**
 * Run `download` on the stall clock, collecting its events. The clock moves by STALL_MS
 * right after the event `stalled` picks (the client has all the server sent before going
 * quiet, so the stall is detected then), and by each retry's backoff once it is announced.
 */
export async function onStallClock<E extends ClockEvent>(stalled: (event: E) => boolean, download: (onEvent: (event: E) => void) => Promise<unknown>): Promise<E[]> {
  const events: E[] = [];
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    await download((event) => {
      events.push(event);
      // setImmediate (not faked): once the engine has armed the timer that follows this event.
      if (stalled(event)) setImmediate(() => vi.advanceTimersByTime(STALL_MS));
      if (event.type === 'retry') setImmediate(() => vi.advanceTimersByTime(event.delayMs ?? 0));
    });
  } finally {
    vi.useRealTimers();
  }
  return events;
}
