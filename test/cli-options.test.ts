/**
 * Where the CLI runs the models when --inference is not given (README: Performance).
 */
import { describe, expect, it } from 'vitest';
import { sessionOptions, type CommonRunOptions } from '../src/cli/options.js';
import type { Ui } from '../src/cli/ui.js';

const ui = (interactive: boolean) => ({ interactive, warn: () => {} }) as unknown as Ui;
const flags = (inference?: 'main' | 'worker'): CommonRunOptions => ({ out: '.', device: 'cpu', inference });

describe('default inference thread', () => {
  it('uses the worker on a terminal or with several images in flight, the main thread otherwise', () => {
    expect(sessionOptions(flags(), ui(false)).inference).toBe('main');
    expect(sessionOptions(flags(), ui(false), 1).inference).toBe('main');
    expect(sessionOptions(flags(), ui(false), 2).inference).toBe('worker');
    expect(sessionOptions(flags(), ui(true)).inference).toBe('worker');
  });

  it('--inference overrides the default either way', () => {
    expect(sessionOptions(flags('main'), ui(true), 4).inference).toBe('main');
    expect(sessionOptions(flags('worker'), ui(false), 1).inference).toBe('worker');
  });
});
