/**
 * The batch's signal handler: Ctrl-C and SIGTERM (docker stop, a Kubernetes eviction, a
 * Slurm time limit) both stop taking new work; the CLI tests send real signals.
 */
import { describe, expect, it } from 'vitest';
import { installInterruptHandler, interruptWording } from '../src/batch/interrupt.js';

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

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('records the first signal, %s: its name for onFirst and the messages, exit code %i', (name, code) => {
    const names: string[] = [];
    const handler = installInterruptHandler({ onFirst: (n) => names.push(n) });
    try {
      expect(handler.received).toBeUndefined();
      process.emit(name, name);
      expect(names).toEqual([name]);
      expect(handler.received).toBe(name);
      expect(handler.exitCode).toBe(code);
      expect(handler.reason).toEqual({ why: 'interrupted', exitCode: code });
    } finally {
      handler.dispose();
    }
  });

  it('words the interruption by its signal: Ctrl-C for SIGINT, the name otherwise', () => {
    expect(interruptWording('SIGINT')).toEqual({ interrupted: 'interrupted', again: 'Ctrl-C again' });
    expect(interruptWording('SIGTERM')).toEqual({ interrupted: 'interrupted by SIGTERM', again: 'send it again' });
  });

  it('stops for another reason as the first signal would: once, with that reason and its exit code', () => {
    let first = 0;
    const handler = installInterruptHandler({ onFirst: () => first++ });
    try {
      expect(handler.reason).toBeUndefined();
      handler.stop({ why: 'stdout closed', exitCode: 141 });
      handler.stop({ why: 'cannot write to out', exitCode: 1 });
      expect(handler.signal.aborted).toBe(true);
      expect(handler.reason).toEqual({ why: 'stdout closed', exitCode: 141 });
      expect(handler.exitCode).toBe(141);
      // Not a signal: no "finishing the images in flight" line, no signal name.
      expect(first).toBe(0);
      expect(handler.received).toBeUndefined();
    } finally {
      handler.dispose();
    }
  });
});
