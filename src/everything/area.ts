/**
 * Min/max area filters: not part of the reference (its small-region clean-up never drops a
 * mask), added because users of every peer ask for them. They run last, on the exact
 * full-resolution area, so a filtered result is always a subset of the unfiltered one.
 */
import { UsageError } from '../util/errors.js';

/** An area bound in pixels, or as a fraction of the image area. */
export type AreaLimit = { readonly pixels: number } | { readonly fraction: number };

/** What {@link parseAreaLimit} accepts, in words. */
export const AREA_LIMIT_RANGE = 'a pixel count (500), a fraction of the image below 1 (0.02) or a percentage up to 100% (2%)';

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
  const wrong = () => new UsageError(`${name} ${JSON.stringify(raw)}: expected ${AREA_LIMIT_RANGE}`);
  if (!Number.isFinite(value) || value < 0) throw wrong();
  if (percent) {
    if (value > 100) throw wrong();
    return { fraction: value / 100 };
  }
  if (value > 0 && value < 1) return { fraction: value };
  // A whole number >= 1 is pixels; 12.5 is neither a pixel count nor a fraction.
  if (!Number.isInteger(value)) throw wrong();
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
