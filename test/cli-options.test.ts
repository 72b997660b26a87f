/**
 * Where the CLI runs the models when --inference is not given (docs/performance.md), and
 * the defaults the everything flags show.
 */
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { sessionOptions, type CommonRunOptions } from '../src/cli/options.js';
import { EVERYTHING_DEFAULTS } from '../src/everything/options.js';
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

describe('everything flags', () => {
  it("show the library's EVERYTHING_DEFAULTS as their defaults (a flag left out is left to the library)", () => {
    const everything = buildProgram().commands.find((c) => c.name() === 'everything')!;
    const d = EVERYTHING_DEFAULTS;
    const expected: Record<string, unknown> = {
      grid: d.pointsPerSide,
      mode: d.mode,
      predIouThresh: d.predIouThresh,
      stabilityThresh: d.stabilityThresh,
      stabilityOffset: d.stabilityOffset,
      nmsThresh: d.boxNmsThresh,
      cropLayers: d.cropLayers,
      cropOverlap: d.cropOverlapRatio,
      cropPointsDownscale: d.cropPointsDownscale,
      cropNmsThresh: d.cropNmsThresh,
      minRegionArea: d.minRegionArea,
      lowRes: d.lowResSize,
      order: d.order,
    };
    const shown = Object.fromEntries(everything.options.filter((o) => o.attributeName() in expected).map((o) => [o.attributeName(), o.defaultValue]));
    expect(shown).toEqual(expected);
  });
});
