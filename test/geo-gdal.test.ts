/**
 * samlite's GeoTIFF runs checked by GDAL: rasters made with gdal_translate (striped,
 * tiled, Cloud-Optimized, BigTIFF, LZW, 16-bit, 4-band, no data, several CRSs) and a
 * rotated one, every output opened by ogrinfo/gdalinfo, polygons valid, outlines landing
 * where their pixels are (rasterised back by gdal_rasterize onto the input grid they give
 * the label raster within 0.1 %), and the label raster's geotransform and CRS equal to the
 * input's.
 *
 * Needs gdal-bin (gdalinfo, gdal_translate, gdal_rasterize, ogrinfo). Without it these
 * tests are skipped with one line; `npm run check:geo` (and CI) require it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromFile } from 'geotiff';
import type { GeoTransform } from '../src/geo/georef.js';
import { planTiles } from '../src/geo/tiling.js';
import { seamScene } from '../scripts/fixtures/seam-scene.js';
import { assertBuilt, jsonLines, runSamlite } from './helpers/run-cli.js';
import { sceneRaster, writeTestGeoTiff } from './helpers/geo-raster.js';

const HAVE_GDAL = ['gdalinfo', 'gdal_translate', 'gdal_rasterize', 'ogrinfo'].every((tool) => spawnSync(tool, ['--version']).status === 0);
if (!HAVE_GDAL) {
  if (process.env.SAMLITE_REQUIRE_GDAL) throw new Error('GDAL tools (gdal-bin) are required here: apt-get install -y gdal-bin');
  console.warn('geo GDAL checks skipped: gdal-bin not found (apt-get install -y gdal-bin, then npm run check:geo)');
}

const W = 800;
const H = 600;
const TILE = 512;
const OVERLAP = 64;
const dir = mkdtempSync(join(tmpdir(), 'samlite-geo-gdal-'));
const plan = planTiles(W, H, TILE, OVERLAP);
const scene = seamScene(plan, 5, { minSize: 60, maxSize: 180 });
const UTM: GeoTransform = [500000, 0.5, 0, 5200000, 0, -0.5];
const base = join(dir, 'base.tif');

const run = (tool: string, args: readonly string[]) => execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const info = (path: string) => JSON.parse(run('gdalinfo', ['-json', path])) as { size: number[]; geoTransform: number[]; coordinateSystem?: { wkt: string }; bands: { type: string }[]; metadata?: Record<string, Record<string, string>> };

beforeAll(async () => {
  if (!HAVE_GDAL) return;
  assertBuilt();
  await writeTestGeoTiff(base, sceneRaster(scene), { transform: UTM, epsg: 32633 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run samlite everything on `raster` (tiled, built-in model, fast) into `out`. */
async function segment(raster: string, out: string, extra: readonly string[] = []) {
  const r = await runSamlite(['everything', raster, '--model', 'builtin', '--fast', '--tile', String(TILE), '--overlap', String(OVERLAP), '--out', out, '--json', ...extra], { cwd: dir });
  expect(r.stderr.replace(/^warning:.*$/gm, '').trim().split('\n').filter((l) => /error/i.test(l))).toEqual([]);
  expect(r.code).toBe(0);
  return jsonLines(r.stdout)[0] as { masks: number; outputs: string[] };
}

/** Pixels (of those any label covers) where gdal_rasterize of `vector` onto `labels`' grid disagrees with it. */
async function disagreement(vector: string, labels: string, layer: string): Promise<number> {
  const burnt = join(dir, `burnt-${Math.random().toString(36).slice(2)}.tif`);
  // A zero raster on the label raster's grid, then the vector's ids burnt in (GDAL reprojects them).
  run('gdal_translate', ['-q', '-scale', '0', '1', '0', '0', '-ot', 'UInt32', labels, burnt]);
  // GeoJSON's feature id is OGR's FID; FlatGeobuf carries it as its `id` column.
  const burn = vector.endsWith('.geojson') ? ['-sql', `SELECT FID AS burn_id, * FROM "${layer}"`, '-a', 'burn_id'] : ['-l', layer, '-a', 'id'];
  run('gdal_rasterize', ['-q', ...burn, vector, burnt]);
  const read = async (p: string) => ((await (await (await fromFile(p)).getImage(0)).readRasters()) as unknown as Uint32Array[])[0];
  const [a, b] = [await read(labels), await read(burnt)];
  let labelled = 0;
  let differ = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0 && b[i] === 0) continue;
    labelled++;
    if (a[i] !== b[i]) differ++;
  }
  return differ / Math.max(1, labelled);
}

/** Invalid geometries in a vector file, by OGR's SQLite dialect (GEOS). */
function invalid(vector: string, layer: string): number {
  const out = run('ogrinfo', ['-q', '-dialect', 'sqlite', '-sql', `select count(*) as n from "${layer}" where not st_isvalid(geometry)`, vector]);
  return Number(/n \(Integer\) = (\d+)/.exec(out)?.[1] ?? NaN);
}

describe.skipIf(!HAVE_GDAL)('GeoTIFF runs checked by GDAL', () => {
  it('reads striped, tiled, COG, BigTIFF and LZW files GDAL wrote, and the outputs are the same objects', async () => {
    const variants: [string, string[]][] = [
      ['striped', []],
      ['cog', ['-of', 'COG', '-co', 'COMPRESS=DEFLATE']],
      ['bigtiff', ['-co', 'TILED=YES', '-co', 'BIGTIFF=YES', '-co', 'COMPRESS=LZW']],
    ];
    const counts: number[] = [];
    for (const [name, args] of variants) {
      const path = join(dir, `${name}.tif`);
      run('gdal_translate', ['-q', ...args, base, path]);
      const r = await segment(path, join(dir, `out-${name}`), ['--format', 'fgb']);
      counts.push(r.masks);
    }
    expect(counts.every((c) => c === counts[0] && c === scene.shapes.length + 1)).toBe(true);
  });

  it('reads a JPEG (YCbCr) COG as GDAL does: RGB, under one level from GDAL\'s decoding on average (measured 0.23)', async () => {
    const jpeg = join(dir, 'jpeg.tif');
    const decoded = join(dir, 'jpeg-by-gdal.tif');
    run('gdal_translate', ['-q', '-of', 'COG', '-co', 'COMPRESS=JPEG', base, jpeg]);
    run('gdal_translate', ['-q', jpeg, decoded]);
    const { openGeoRaster } = await import('../src/geo/raster.js');
    const ours = await openGeoRaster(jpeg);
    expect(ours.photometric).toBe(6);
    const mine = await ours.readWindow([100, 50, 612, 562], [0, 1, 2]);
    await ours.close();
    const gdal = (await (await (await fromFile(decoded)).getImage(0)).readRasters({ window: [100, 50, 612, 562] })) as unknown as Uint8Array[];
    // libjpeg (GDAL) upsamples the chroma smoothly, geotiff.js's decoder does not: the two
    // differ along colour edges, never by the offset a missed YCbCr conversion gives (~70).
    let sum = 0;
    let far = 0;
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < mine[k].length; i++) {
        const d = Math.abs(mine[k][i] - gdal[k][i]);
        sum += d;
        if (d > 24) far++;
      }
    }
    expect(sum / (3 * 512 * 512)).toBeLessThan(1);
    expect(far / (3 * 512 * 512)).toBeLessThan(0.005);
    const r = await segment(jpeg, join(dir, 'out-jpeg'), ['--format', 'fgb']);
    expect(r.masks).toBe(scene.shapes.length + 1);
  });

  it('GeoJSON (WGS 84), FlatGeobuf and the label raster open in GDAL, valid, on the input grid, outlines within half a pixel', async () => {
    const out = join(dir, 'outputs');
    const r = await segment(base, out, ['--format', 'geojson,fgb,label-tif']);
    const labels = join(out, 'base.labels.tif');
    const input = info(base);
    const label = info(labels);
    expect(label.size).toEqual(input.size);
    expect(label.geoTransform).toEqual(input.geoTransform);
    expect(label.coordinateSystem?.wkt).toBe(input.coordinateSystem?.wkt);
    expect(label.bands[0].type).toBe('UInt32');
    for (const [file, layer] of [['base.geojson', 'base'], ['base.fgb', 'base']]) {
      const summary = run('ogrinfo', ['-so', '-al', join(out, file)]);
      expect(summary).toContain(`Feature Count: ${r.masks}`);
      expect(invalid(join(out, file), layer)).toBe(0);
      // Burnt back onto the grid, the outlines give the label raster: a shift of half a
      // pixel would change every edge pixel (several % of these objects).
      expect(await disagreement(join(out, file), labels, layer), file).toBeLessThan(0.001);
    }
    expect(run('ogrinfo', ['-so', '-al', join(out, 'base.fgb')])).toMatch(/ID\["EPSG",32633\]\]\s*$/m);
  });

  it('places outlines right in several CRSs and on a rotated grid', async () => {
    const cases: [string, string[], string[]][] = [
      ['mercator', ['-a_srs', 'EPSG:3857', '-a_ullr', '1668000', '5935000', '1668400', '5934700'], []],
      ['geographic', ['-a_srs', 'EPSG:4326', '-a_ullr', '15.001', '46.999', '15.009', '46.993'], []],
      ['etrs89', ['-a_srs', 'EPSG:25832', '-a_ullr', '690000', '5335000', '690800', '5334400'], []],
      // OSGB 1936: no single datum shift to WGS 84, so checked in its own CRS.
      ['osgb', ['-a_srs', 'EPSG:27700', '-a_ullr', '530000', '180600', '531600', '179400'], ['--geojson-crs', 'raster']],
    ];
    for (const [name, args, extra] of cases) {
      const path = join(dir, `${name}.tif`);
      run('gdal_translate', ['-q', ...args, base, path]);
      const out = join(dir, `out-${name}`);
      await segment(path, out, ['--format', 'geojson,label-tif', ...extra]);
      expect(await disagreement(join(out, `${name}.geojson`), join(out, `${name}.labels.tif`), name), name).toBeLessThan(0.001);
      expect(info(join(out, `${name}.labels.tif`)).geoTransform).toEqual(info(path).geoTransform);
    }
    // Rotated: GDAL reads the rotation terms samlite's writer put in ModelTransformation.
    const rotated = join(dir, 'rotated.tif');
    const t: GeoTransform = [600000, 0.4, 0.1, 5100000, 0.1, -0.4];
    await writeTestGeoTiff(rotated, sceneRaster(scene), { transform: t, epsg: 32633 });
    expect(info(rotated).geoTransform).toEqual([...t]);
    await segment(rotated, join(dir, 'out-rotated'), ['--format', 'geojson,label-tif']);
    expect(await disagreement(join(dir, 'out-rotated', 'rotated.geojson'), join(dir, 'out-rotated', 'rotated.labels.tif'), 'rotated')).toBeLessThan(0.001);
  });

  it('16-bit, 4-band and no-data rasters from GDAL: stretched, bands picked, nothing from no data', async () => {
    const wide = join(dir, 'uint16.tif');
    run('gdal_translate', ['-q', '-ot', 'UInt16', '-scale', '0', '255', '1000', '11200', '-b', '1', '-b', '2', '-b', '3', '-b', '1', '-a_nodata', '0', base, wide]);
    // No data: the left 100 pixels set to 0 in every band (gdal_rasterize burns a polygon).
    const strip = join(dir, 'strip.geojson');
    const ring = [[500000, 5199700], [500050, 5199700], [500050, 5200000], [500000, 5200000], [500000, 5199700]];
    writeFileSync(strip, JSON.stringify({ type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32633' } }, features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [ring] } }] }));
    run('gdal_rasterize', ['-q', ...[1, 2, 3, 4].flatMap((b) => ['-b', String(b), '-burn', '0']), '-l', 'strip', strip, wide]);
    const out = join(dir, 'out-uint16');
    const r = await segment(wide, out, ['--bands', '1,2,3', '--format', 'label-tif,fgb']);
    expect(r.masks).toBeGreaterThanOrEqual(scene.shapes.length);
    const labels = ((await (await (await fromFile(join(out, 'uint16.labels.tif'))).getImage(0)).readRasters()) as unknown as Uint32Array[])[0];
    let onNodata = 0;
    for (let y = 0; y < 600; y++) for (let x = 0; x < 100; x++) if (labels[y * W + x] !== 0) onNodata++;
    expect(onNodata).toBe(0);
    expect(invalid(join(out, 'uint16.fgb'), 'uint16')).toBe(0);
  });
});
