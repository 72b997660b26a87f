import { describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../src/util/errors.js';
import {
  DEFAULT_MAX_PIXELS,
  checkPixelLimit,
  formatMegapixels,
  parseMaxPixels,
  resolveMaxPixels,
} from '../src/image/limits.js';

describe('parseMaxPixels', () => {
  it('reads plain counts, k/M/G suffixes and unlimited', () => {
    expect(parseMaxPixels('50000000')).toBe(50_000_000);
    expect(parseMaxPixels('5e7')).toBe(50_000_000);
    expect(parseMaxPixels('100M')).toBe(100_000_000);
    expect(parseMaxPixels('100MP')).toBe(100_000_000);
    expect(parseMaxPixels('2.5mp')).toBe(2_500_000);
    expect(parseMaxPixels('640k')).toBe(640_000);
    expect(parseMaxPixels('1G')).toBe(1_000_000_000);
    expect(parseMaxPixels(' unlimited ')).toBe(Infinity);
  });

  it('refuses anything else as a usage error naming the flag', () => {
    for (const bad of ['', 'lots', '-5', '0', '10T', '1e', 'M']) {
      expect(() => parseMaxPixels(bad)).toThrow(UsageError);
    }
    expect(() => parseMaxPixels('abc')).toThrow(/^--max-pixels "abc": expected a pixel count/);
  });
});

describe('resolveMaxPixels', () => {
  it('defaults to 100 MP and accepts Infinity', () => {
    expect(resolveMaxPixels(undefined)).toBe(DEFAULT_MAX_PIXELS);
    expect(DEFAULT_MAX_PIXELS).toBe(100_000_000);
    expect(resolveMaxPixels(Infinity)).toBe(Infinity);
    expect(resolveMaxPixels(1234.9)).toBe(1234);
  });
  it('rejects zero, negatives and NaN', () => {
    for (const bad of [0, -1, Number.NaN, -Infinity, 0.5]) expect(() => resolveMaxPixels(bad)).toThrow(UsageError);
  });
});

describe('checkPixelLimit', () => {
  it('passes at the limit and fails one pixel over', () => {
    expect(() => checkPixelLimit('a.png', 10_000, 10_000, 100_000_000)).not.toThrow();
    expect(() => checkPixelLimit('a.png', 10_001, 10_000, 100_000_000)).toThrow(InputError);
  });

  it('writes the message the CLI prints', () => {
    expect(() => checkPixelLimit('big.png', 20000, 20000, 100_000_000)).toThrow(
      /^big\.png: 20000x20000 = 400\.0 MP is over the pixel limit of 100 MP \(--max-pixels\)$/,
    );
    expect(() => checkPixelLimit('s.png', 100, 100, 9999)).toThrow(
      /^s\.png: 100x100 = 10000 pixels is over the pixel limit of 9999 pixels \(--max-pixels\)$/,
    );
  });

  it('never rounds the size onto the limit', () => {
    expect(() => checkPixelLimit('x.png', 10_004, 10_000, 100_000_000)).toThrow(/= 100\.04 MP is over the pixel limit of 100 MP/);
    expect(formatMegapixels(2_000_001, 2_000_000)).toBe('2.000001 MP');
    expect(formatMegapixels(12_345_678)).toBe('12.3 MP');
  });
});
