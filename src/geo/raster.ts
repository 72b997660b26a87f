/**
 * Reading a GeoTIFF by windows with geotiff.js: striped, tiled, BigTIFF and
 * Cloud-Optimized files, any sample type, read a window at a time so memory follows the
 * window, never the raster. geotiff.js is used because it reads windows of any layout and
 * parses the GeoKeys; sharp/libvips read large TIFFs too but give no GeoKeys.
 */
import { open } from 'node:fs/promises';
import { inflate } from 'node:zlib';
import { promisify } from 'node:util';
import { BaseDecoder, addDecoder, fromFile, type GeoTIFF, type GeoTIFFImage, type ImageFileDirectory, type TypedArray } from 'geotiff';

/** A TIFF tag's name as geotiff.js knows it. */
type TagName = Extract<Parameters<ImageFileDirectory['hasTag']>[0], string>;
import { InputError } from '../util/errors.js';
import { fileErrorReason } from '../util/fs-reason.js';
import { crsFromGeoKeys, type Crs } from './crs.js';
import { geoTransformFromTags, isPixelIsPoint, type GeoTagValues, type GeoTransform } from './georef.js';
import { decodeLzw } from './lzw.js';

const inflateAsync = promisify(inflate);

/**
 * Deflate tiles through Node's zlib (native, off the main thread) rather than geotiff.js's
 * pure-JS inflate; geotiff.js still applies the predictor.
 */
class ZlibDecoder extends BaseDecoder {
  override async decodeBlock(buffer: ArrayBufferLike): Promise<ArrayBufferLike> {
    const out = await inflateAsync(new Uint8Array(buffer));
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  }
}
addDecoder([8, 32946], () => Promise.resolve(ZlibDecoder));

/** LZW through samlite's table decoder (lzw.ts), some ten times faster than geotiff.js's. */
class LzwDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    return decodeLzw(new Uint8Array(buffer)).buffer;
  }
}
addDecoder(5, () => Promise.resolve(LzwDecoder));

/** A window of pixels: [x0, y0, x1, y1), exclusive end. */
export type Window = readonly [number, number, number, number];

/** One band's samples over a window, row-major. */
export type BandSamples = TypedArray;

/** How a band's samples are stored. */
export interface SampleKind {
  readonly bits: number;
  /** 1 unsigned integer, 2 signed integer, 3 floating point. */
  readonly format: 1 | 2 | 3;
}

/** A reduced-resolution copy stored in the file (a COG's overviews). */
export interface Overview {
  readonly width: number;
  readonly height: number;
}

/** An open GeoTIFF. */
export interface GeoRaster {
  /** The name used in messages. */
  readonly source: string;
  readonly width: number;
  readonly height: number;
  /** Samples per pixel. */
  readonly bands: number;
  readonly sample: SampleKind;
  /** 0-based index of the alpha band (ExtraSamples), if any. */
  readonly alphaBand?: number;
  /** GDAL_NODATA, if set. */
  readonly nodata?: number;
  /** Photometric interpretation: 2 RGB, 1 grey, 6 YCbCr... */
  readonly photometric: number;
  readonly transform: GeoTransform;
  readonly crs?: Crs;
  /** The georeferencing tags as stored, for outputs on the same grid. */
  readonly geoTags: GeoTagValues;
  /** Overviews, largest first. */
  readonly overviews: readonly Overview[];
  /** The bands (0-based) of `window`, one array each. */
  readWindow(window: Window, bands: readonly number[], signal?: AbortSignal): Promise<BandSamples[]>;
  /** The bands of overview `index` (into {@link overviews}), whole. */
  readOverview(index: number, bands: readonly number[]): Promise<BandSamples[]>;
  close(): Promise<void>;
}

/** JPEG's full-range YCbCr (ITU-R BT.601) to 8-bit R, G, B. */
function yCbCrToRgb(y: TypedArray, cb: TypedArray, cr: TypedArray): Uint8Array[] {
  const n = y.length;
  const r = new Uint8Array(n);
  const g = new Uint8Array(n);
  const b = new Uint8Array(n);
  const clamp = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));
  for (let i = 0; i < n; i++) {
    const u = cb[i] - 128;
    const v = cr[i] - 128;
    r[i] = clamp(y[i] + 1.402 * v);
    g[i] = clamp(y[i] - 0.344136 * u - 0.714136 * v);
    b[i] = clamp(y[i] + 1.772 * u);
  }
  return [r, g, b];
}

/** TIFF magic numbers: classic and BigTIFF, either byte order. */
function isTiffMagic(b: Uint8Array): boolean {
  const ii = b[0] === 0x49 && b[1] === 0x49 && (b[2] === 42 || b[2] === 43) && b[3] === 0;
  const mm = b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && (b[3] === 42 || b[3] === 43);
  return ii || mm;
}

/** Whether `path` starts like a TIFF (without parsing it). */
export async function looksLikeTiff(path: string): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'r');
    const head = new Uint8Array(4);
    const { bytesRead } = await file.read(head, 0, 4, 0);
    return bytesRead === 4 && isTiffMagic(head);
  } catch {
    return false;
  } finally {
    await file?.close();
  }
}

async function tagValues(image: GeoTIFFImage): Promise<GeoTagValues> {
  const fd = image.getFileDirectory();
  const numbers = async (name: TagName): Promise<number[] | undefined> => {
    if (!fd.hasTag(name)) return undefined;
    const v = (await fd.loadValue(name)) as ArrayLike<number> | number | undefined;
    if (v === undefined) return undefined;
    return typeof v === 'number' ? [v] : Array.from(v);
  };
  const ascii = fd.hasTag('GeoAsciiParams') ? String(await fd.loadValue('GeoAsciiParams')) : undefined;
  return {
    modelPixelScale: await numbers('ModelPixelScale'),
    modelTiepoint: await numbers('ModelTiepoint'),
    modelTransformation: await numbers('ModelTransformation'),
    geoKeyDirectory: await numbers('GeoKeyDirectory'),
    geoDoubleParams: await numbers('GeoDoubleParams'),
    ...(ascii !== undefined ? { geoAsciiParams: ascii } : {}),
  };
}

/** Whether `path` is a TIFF with georeferencing tags (an affine transform or tiepoints). */
export async function isGeoTiff(path: string): Promise<boolean> {
  if (!(await looksLikeTiff(path))) return false;
  let tiff: GeoTIFF | undefined;
  try {
    tiff = await fromFile(path);
    const fd = (await tiff.getImage(0)).getFileDirectory();
    return fd.hasTag('ModelTiepoint') || fd.hasTag('ModelTransformation');
  } catch {
    return false;
  } finally {
    await closeTiff(tiff);
  }
}

async function closeTiff(tiff: GeoTIFF | undefined): Promise<void> {
  const closable = tiff as unknown as { close?: () => Promise<void> | void } | undefined;
  await closable?.close?.();
}

/**
 * Open a GeoTIFF for window reads. Every problem is an InputError naming `source`: not a
 * TIFF, no georeferencing, ground control points instead of a transform, bands of mixed
 * sample types, a palette image.
 */
export async function openGeoRaster(path: string, source = path): Promise<GeoRaster> {
  let tiff: GeoTIFF;
  try {
    tiff = await fromFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new InputError(`${source}: ${fileErrorReason(err)}`, { cause: err });
    throw new InputError(`${source}: not a readable TIFF (${(err as Error).message})`, { cause: err });
  }
  try {
    return await describe(tiff, source);
  } catch (err) {
    await closeTiff(tiff);
    if (err instanceof InputError) throw err;
    throw new InputError(`${source}: not a readable GeoTIFF (${(err as Error).message})`, { cause: err });
  }
}

async function describe(tiff: GeoTIFF, source: string): Promise<GeoRaster> {
  const image = await tiff.getImage(0);
  const fd = image.getFileDirectory();
  const width = image.getWidth();
  const height = image.getHeight();
  const bands = image.getSamplesPerPixel();
  const bits = image.getBitsPerSample(0);
  const format = (image.getSampleFormat(0) ?? 1) as 1 | 2 | 3;
  for (let b = 1; b < bands; b++) {
    if (image.getBitsPerSample(b) !== bits || (image.getSampleFormat(b) ?? 1) !== format) {
      throw new InputError(`${source}: its bands have different sample types; convert it with gdal_translate -ot`);
    }
  }
  if (![8, 16, 32, 64].includes(bits)) throw new InputError(`${source}: ${bits}-bit samples are not supported (8, 16, 32 or 64)`);
  const photometric = Number((await fd.loadValue('PhotometricInterpretation')) ?? 1);
  if (photometric === 3) throw new InputError(`${source}: a palette (colour-mapped) image; expand it first (gdal_translate -expand rgb)`);
  const keys = image.getGeoKeys() as Record<string, unknown> | null;
  const geoTags = await tagValues(image);
  const transform = geoTransformFromTags(geoTags, isPixelIsPoint(keys));
  if (!Array.isArray(transform)) throw new InputError(`${source}: not georeferenced: ${(transform as { reason: string }).reason}`);
  if (keys && keys.GTModelTypeGeoKey === 3) throw new InputError(`${source}: a geocentric CRS is not supported`);
  const crs = crsFromGeoKeys(keys);
  const extra = fd.hasTag('ExtraSamples') ? ((await fd.loadValue('ExtraSamples')) as ArrayLike<number> | number) : undefined;
  const extras = extra === undefined ? [] : typeof extra === 'number' ? [extra] : Array.from(extra);
  const colour = photometric === 2 || photometric === 6 ? 3 : 1;
  const alphaAt = extras.findIndex((e) => e === 1 || e === 2);
  const alphaBand = alphaAt >= 0 && colour + alphaAt < bands ? colour + alphaAt : undefined;
  const nodata = image.getGDALNoData() ?? undefined;

  const overviewImages: GeoTIFFImage[] = [];
  const count = await tiff.getImageCount();
  for (let i = 1; i < count; i++) {
    const o = await tiff.getImage(i);
    const sub = Number((await o.getFileDirectory().loadValue('NewSubfileType')) ?? 0);
    // Bit 0: a reduced-resolution copy; bit 2 marks a transparency mask, which is no overview.
    if ((sub & 1) === 1 && (sub & 4) === 0 && o.getSamplesPerPixel() === bands && o.getWidth() < width) overviewImages.push(o);
  }
  overviewImages.sort((a, b) => b.getWidth() - a.getWidth());

  // JPEG tiles stored as YCbCr decode to Y, Cb, Cr: turned into R, G, B here, as GDAL does.
  const ycbcr = photometric === 6 && bands >= 3;
  const read = async (img: GeoTIFFImage, window: Window | undefined, wanted: readonly number[], signal?: AbortSignal): Promise<BandSamples[]> => {
    for (const b of wanted) if (!Number.isInteger(b) || b < 0 || b >= bands) throw new RangeError(`band ${b + 1} is not one of the ${bands} bands`);
    const colour = ycbcr && wanted.some((b) => b < 3);
    const samples = colour ? [0, 1, 2, ...wanted.filter((b) => b >= 3)] : [...wanted];
    try {
      const result = Array.from((await img.readRasters({ ...(window ? { window: [...window] } : {}), samples, interleave: false, signal })) as ArrayLike<TypedArray>);
      if (!colour) return result;
      const rgb = yCbCrToRgb(result[0], result[1], result[2]);
      return wanted.map((b) => (b < 3 ? rgb[b] : result[samples.indexOf(b)]));
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new InputError(`${source}: cannot read pixels${window ? ` ${window.join(',')}` : ''}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    source,
    width,
    height,
    bands,
    sample: { bits, format },
    ...(alphaBand !== undefined ? { alphaBand } : {}),
    ...(nodata !== undefined && Number.isFinite(nodata) ? { nodata } : nodata !== undefined && Number.isNaN(nodata) ? { nodata: NaN } : {}),
    photometric,
    transform: transform as GeoTransform,
    ...(crs ? { crs } : {}),
    geoTags,
    overviews: overviewImages.map((o) => ({ width: o.getWidth(), height: o.getHeight() })),
    readWindow: (window, wanted, signal) => {
      const [x0, y0, x1, y1] = window;
      if (x0 < 0 || y0 < 0 || x1 > width || y1 > height || x1 <= x0 || y1 <= y0) throw new RangeError(`window ${window.join(',')} is outside the ${width}x${height} raster`);
      return read(image, window, wanted, signal);
    },
    readOverview: (index, wanted) => read(overviewImages[index], undefined, wanted),
    close: () => closeTiff(tiff),
  };
}
