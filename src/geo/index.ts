/** GeoTIFFs: reading by windows, tiling, seam merging, map prompts and georeferenced outputs. */
export { openGeoRaster, isGeoTiff, type GeoRaster, type Window, type BandSamples, type SampleKind } from './raster.js';
export { planTiles, allTiles, tileAt, tileKey, tileOwning, overlappingTiles, type Tile, type TilePlan } from './tiling.js';
export { SeamMerger, SEAM_MERGE_DEFAULTS, type MergedObject, type TileMask, type SeamMergeOptions } from './seam-merge.js';
export {
  runGeoEverything,
  runGeoPrompts,
  tilingFor,
  DEFAULT_TILE,
  DEFAULT_OVERLAP,
  type GeoRunCommon,
  type GeoRunSettings,
  type GeoPromptSettings,
  type GeoRunReporter,
  type GeoRunSummary,
  type GeoRasterResult,
  type GeoJob,
} from './run.js';
export { mergeGeoFolders, mergeTileParts, type GeoMergeOutcome, type MergeResult } from './merge-run.js';
export { readPromptFile, placePrompt, parsePromptCrs, type MapPrompt, type PromptFrame, type PromptFile } from './prompts.js';
export { parseStretch, parseBands, defaultBands, computeStretch, readRgbWindow, type StretchSpec, type PixelRecipe, type BandStretch, type RgbWindow } from './stretch.js';
export { crsFromGeoKeys, crsTransform, epsgDefinition, parseCrs, WGS84, type Crs, type CrsTransform } from './crs.js';
export { geoTransformFromTags, pixelToMap, mapToPixel, pixelArea, type GeoTransform, type GeoTagValues } from './georef.js';
export { TiledTiffWriter, type TiffLayout, type TiffTag, type TiffSampleType } from './tiff-writer.js';
export { LabelRasterWriter } from './label-raster.js';
export { spanPolygons, spanRings } from './outline.js';
export { GEO_FORMATS, geoOutputPath, type GeoFormat } from './outputs.js';
export type { SpanMask } from './spans.js';
