/**
 * Coordinate reference systems: which one a GeoTIFF's GeoKeys name, and transforms between
 * them with proj4js. proj4js knows a handful of EPSG codes by itself; the others come from
 * the table in epsg-proj4.ts (every EPSG projected and 2-D geographic CRS, as PROJ writes
 * them), so nothing is looked up online.
 */
import { gunzipSync } from 'node:zlib';
import proj4 from 'proj4';
import { UsageError } from '../util/errors.js';
import { EPSG_PROJ4_GZ_BASE64 } from './epsg-proj4.js';

/** The CRS of a raster, as its GeoKeys give it. */
export interface Crs {
  /** EPSG code; undefined for a CRS defined by parameters in the GeoKeys (code 32767). */
  readonly epsg?: number;
  /** Geographic (lon/lat) or projected. */
  readonly kind: 'geographic' | 'projected';
  /** What the file calls it (its citation key), or `EPSG:<code>`. */
  readonly name: string;
}

/** EPSG:4326, WGS 84 longitude/latitude: the CRS of RFC 7946 GeoJSON. */
export const WGS84: Crs = { epsg: 4326, kind: 'geographic', name: 'WGS 84' };

/** GeoKey value meaning "user-defined": the CRS is given by parameters, not a code. */
const USER_DEFINED = 32767;

/**
 * The CRS named by a GeoTIFF's GeoKeys (as geotiff.js parses them), or undefined when the
 * keys name none (no keys, or a geocentric model).
 */
export function crsFromGeoKeys(keys: Readonly<Record<string, unknown>> | null | undefined): Crs | undefined {
  if (!keys) return undefined;
  const model = keys.GTModelTypeGeoKey;
  const citation = typeof keys.GTCitationGeoKey === 'string' ? keys.GTCitationGeoKey.trim() : undefined;
  const projected = keys.ProjectedCSTypeGeoKey;
  const geographic = keys.GeographicTypeGeoKey;
  if (model === 1 || (model === undefined && typeof projected === 'number')) {
    if (typeof projected === 'number' && projected !== USER_DEFINED && projected > 0) {
      return { epsg: projected, kind: 'projected', name: citation || `EPSG:${projected}` };
    }
    return { kind: 'projected', name: citation || 'user-defined projected CRS' };
  }
  if (model === 2 || (model === undefined && typeof geographic === 'number')) {
    const geogCitation = typeof keys.GeogCitationGeoKey === 'string' ? keys.GeogCitationGeoKey.trim() : undefined;
    if (typeof geographic === 'number' && geographic !== USER_DEFINED && geographic > 0) {
      return { epsg: geographic, kind: 'geographic', name: geogCitation || citation || `EPSG:${geographic}` };
    }
    return { kind: 'geographic', name: geogCitation || citation || 'user-defined geographic CRS' };
  }
  return undefined;
}

let table: Record<string, string> | undefined;

/** The PROJ.4 definition of EPSG `code`, or undefined when the table does not hold it. */
export function epsgDefinition(code: number): string | undefined {
  table ??= JSON.parse(gunzipSync(Buffer.from(EPSG_PROJ4_GZ_BASE64, 'base64')).toString('utf8')) as Record<string, string>;
  return table[String(code)];
}

/**
 * Parse a CRS as users write it: `EPSG:<code>` (any case), or a bare code. Throws a
 * UsageError naming `flag` for anything else or a code samlite has no definition of.
 */
export function parseCrs(text: string, flag: string): Crs {
  const m = /^\s*(?:epsg:)?(\d{4,6})\s*$/i.exec(text);
  if (!m) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected EPSG:<code>, for example EPSG:4326`);
  const code = Number(m[1]);
  const def = epsgDefinition(code);
  if (!def) throw new UsageError(`${flag} ${text}: EPSG:${code} is not a projected or 2-D geographic CRS samlite knows`);
  return { epsg: code, kind: /\+proj=longlat\b/.test(def) ? 'geographic' : 'projected', name: `EPSG:${code}` };
}

/** Transforms [x, y] from one CRS to another, and back. */
export interface CrsTransform {
  forward(p: readonly [number, number]): [number, number];
  inverse(p: readonly [number, number]): [number, number];
}

function definitionOf(crs: Crs): string {
  if (crs.epsg === undefined) {
    throw new UsageError(`${crs.name}: the CRS is defined by parameters in the file's GeoKeys, not by an EPSG code; samlite cannot reproject it (reproject the raster with gdalwarp -t_srs EPSG:<code>, or keep the raster's CRS)`);
  }
  const def = epsgDefinition(crs.epsg);
  if (!def) throw new UsageError(`EPSG:${crs.epsg} (${crs.name}) is not a CRS samlite has a definition of`);
  return def;
}

/** Identity transform, for a CRS to itself. */
const IDENTITY: CrsTransform = { forward: (p) => [p[0], p[1]], inverse: (p) => [p[0], p[1]] };

/**
 * A transform from `from` to `to` (proj4js). Same EPSG code: the identity. Throws a
 * UsageError when either CRS has no definition samlite knows.
 */
export function crsTransform(from: Crs, to: Crs): CrsTransform {
  if (from.epsg !== undefined && from.epsg === to.epsg) return IDENTITY;
  const converter = proj4(definitionOf(from), definitionOf(to));
  return {
    forward: (p) => converter.forward([p[0], p[1]]) as [number, number],
    inverse: (p) => converter.inverse([p[0], p[1]]) as [number, number],
  };
}

/**
 * Whether turning `crs` into WGS 84 moves between datums without a known shift (no
 * +towgs84 and an ellipsoid other than WGS 84's or GRS 80's): lon/lat may then be off by up
 * to a few hundred metres, and the caller should say so.
 */
export function lacksDatumShift(crs: Crs): boolean {
  if (crs.epsg === undefined) return false;
  const def = epsgDefinition(crs.epsg) ?? '';
  if (/\+towgs84=|\+datum=(WGS84|NAD83)\b|\+nadgrids=@null/.test(def)) return false;
  const ellps = /\+ellps=(\w+)/.exec(def)?.[1];
  return ellps !== undefined && ellps !== 'WGS84' && ellps !== 'GRS80';
}

/** Linear unit of a CRS's coordinates, for the docs and the area property: `metre`, `US survey foot`, `degree`... */
export function crsUnit(crs: Crs): string {
  if (crs.kind === 'geographic') return 'degree';
  if (crs.epsg === undefined) return 'unit of the CRS';
  const def = epsgDefinition(crs.epsg) ?? '';
  const units = /\+units=([\w-]+)/.exec(def)?.[1];
  if (units === 'm' || units === undefined) return /\+to_meter=/.test(def) ? 'unit of the CRS' : 'metre';
  return { 'us-ft': 'US survey foot', ft: 'foot', km: 'kilometre', 'ind-ft': 'Indian foot', 'ind-yd': 'Indian yard', link: 'link', ch: 'chain' }[units] ?? units;
}
