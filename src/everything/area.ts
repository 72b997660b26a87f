/**
 * Min/max area filters: not part of the reference (its small-region clean-up never drops a
 * mask), added because users of every peer ask for them. They run last, on the exact
 * full-resolution area, so a filtered result is always a subset of the unfiltered one.
 */
import { UsageError } from '../errors.js';

/** An area bound in pixels, or as a fraction of the image area. */
export type AreaLimit = { readonly pixels: number } | { readonly fraction: number };

/**
 * Read an area bound as a user writes it: "500" (pixels), "0.02" (a fraction: any number
 * strictly between 0 and 1) or "2%". A whole number >= 1 is always pixels, so "1" means one
 * pixel, not the whole image (write "100%" for that). `name` is the option, for messages.
 */
export function parseAreaLimit(text: string | number, name = 'area'): AreaLimit {
  const raw = String(text).trim();
  const percent = raw.endsWith('%');
  const body = percent ? raw.slice(0, -1).trim() : raw;
  const value = body === '' ? NaN : Number(body);
  if (!Number.isFinite(value) || value < 0) {
    throw new UsageError(`${name} must be a pixel count (e.g. 500), a fraction of the image (e.g. 0.02) or a percentage (e.g. 2%); got "${raw}"`);
  }
  if (percent) {
    if (value > 100) throw new UsageError(`${name} ${raw} is more than the whole image`);
    return { fraction: value / 100 };
  }
  if (value > 0 && value < 1) return { fraction: value };
  if (!Number.isInteger(value)) throw new UsageError(`${name} ${raw}: a pixel count must be a whole number (fractions are below 1)`);
  return { pixels: value };
}

/** The bound in pixels for an image of `imageArea` pixels. */
export function resolveAreaLimit(limit: AreaLimit, imageArea: number): number {
  return 'pixels' in limit ? limit.pixels : limit.fraction * imageArea;
}

/** Human form of a bound, for messages and stats. */
export function formatAreaLimit(limit: AreaLimit): string {
  return 'pixels' in limit ? `${limit.pixels} px` : `${+(limit.fraction * 100).toPrecision(6)}% of the image`;
}

/** Keep-flags for areas within [min, max] (both inclusive; an absent bound does not filter). */
export function areaKeepFlags(areas: readonly number[], min: number | undefined, max: number | undefined): boolean[] {
  return areas.map((a) => (min === undefined || a >= min) && (max === undefined || a <= max));
}
