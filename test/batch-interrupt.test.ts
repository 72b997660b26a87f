/**
 * The batch's signal handler: Ctrl-C and SIGTERM (docker stop, a Kubernetes eviction, a
 * Slurm time limit) both stop taking new work; the CLI tests send real signals.
 */
import { describe, expect, it } from 'vitest';
import { installInterruptHandler } from '../src/batch/interrupt.js';

describe('installInterruptHandler', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s aborts the batch signal once, and dispose removes the handler', (name) => {
    let first = 0;
    const before = process.listenerCount(name);
    const handler = installInterruptHandler({ onFirst: () => first++ });
    expect(process.listenerCount(name)).toBe(before + 1);
    process.emit(name, name);
    expect(handler.signal.aborted).toBe(true);
    expect(first).toBe(1);
    handler.dispose();
    expect(process.listenerCount(name)).toBe(before);
  });
});
