/**
 * The units of a geo run that its parts share: a raster job, an opened raster, and a
 * window of work.
 */
import type { OutputTarget } from '../writers/naming.js';
import type { GeoRaster, Window } from './raster.js';
import type { PixelRecipe } from './stretch.js';
import type { TilePlan } from './tiling.js';

/** One raster to run. */
export interface GeoJob {
  readonly path: string;
  /** Its name in messages. */
  readonly display: string;
  readonly target: OutputTarget;
}

/** A window to segment: a tile, or for prompts a window around a large box. */
export interface WorkUnit {
  /** Its part's name: the tile key, or `p<prompt>` for a prompt's own window. */
  readonly key: string;
  readonly window: Window;
}

/** An opened raster with its tiling and pixel recipe. */
export interface OpenedRaster {
  readonly job: GeoJob;
  readonly raster: GeoRaster;
  readonly tiles: TilePlan;
  readonly recipe: PixelRecipe;
}

