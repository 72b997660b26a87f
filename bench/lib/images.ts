/**
 * The images the benchmark runs on: a real photo from ../shared/photos when that folder
 * exists (generated scenes otherwise), and a 12-megapixel image for the memory case.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { makeScene } from '../../scripts/fixtures/scene.js';

/** An image file on disk and the point prompt used on it. */
export interface BenchImage {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  /** Where it came from, for the report. */
  readonly source: string;
  /** A positive click used by the segment measurements. */
  readonly point: { readonly x: number; readonly y: number };
  /** A second, different click (warm-cache measurements). */
  readonly point2: { readonly x: number; readonly y: number };
}

/**
 * The shared photo folder: SAMLITE_SHARED's photos/ when set (a worktree that is not beside
 * ../shared), else the one next to the checkout.
 */
export function photoDir(root: string): string {
  const shared = process.env.SAMLITE_SHARED;
  return shared ? resolve(shared, 'photos') : resolve(root, '..', 'shared', 'photos');
}

function withPoints(path: string, width: number, height: number, source: string): BenchImage {
  return {
    path,
    width,
    height,
    source,
    point: { x: Math.round(width * 0.5), y: Math.round(height * 0.58) },
    point2: { x: Math.round(width * 0.3), y: Math.round(height * 0.4) },
  };
}

async function writeScene(path: string, width: number, height: number, seed: number): Promise<void> {
  const scene = makeScene({ width, height, seed, shapes: 12 });
  const { data } = scene.image;
  await writeFile(path, await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 3 } }).png().toBuffer());
}

/**
 * The segment/everything photo: truck.jpg (1800x1200, the largest of the shared photos, so
 * the JS-side resize to the model frame is exercised) or, without the folder, a generated
 * 1800x1200 scene written to `tmp`.
 */
export async function benchPhoto(root: string, tmp: string): Promise<BenchImage> {
  const photo = join(photoDir(root), 'truck.jpg');
  if (existsSync(photo)) {
    const meta = await sharp(photo).metadata();
    return withPoints(photo, meta.width!, meta.height!, 'photo ../shared/photos/truck.jpg');
  }
  const path = join(tmp, 'scene-1800x1200.png');
  await writeScene(path, 1800, 1200, 11);
  return withPoints(path, 1800, 1200, 'generated scene (no ../shared/photos)');
}

/** A second, small image used only to load sessions before a cold measurement. */
export async function warmupImage(tmp: string): Promise<BenchImage> {
  const path = join(tmp, 'warmup-320x240.png');
  await writeScene(path, 320, 240, 3);
  return withPoints(path, 320, 240, 'generated scene');
}

/**
 * A 12-megapixel image (4000x3000). None of the shared photos is that large, so the
 * truck photo is enlarged (cover-cropped to 4:3) and saved as JPEG: real photo content at
 * the size a phone produces. Without the photo folder, a generated scene.
 */
export async function twelveMegapixelImage(root: string, tmp: string): Promise<BenchImage> {
  const [width, height] = [4000, 3000];
  const photo = join(photoDir(root), 'truck.jpg');
  if (existsSync(photo)) {
    const path = join(tmp, 'truck-4000x3000.jpg');
    await sharp(photo).resize(width, height, { fit: 'cover', kernel: 'lanczos3' }).jpeg({ quality: 90 }).toFile(path);
    return withPoints(path, width, height, 'truck.jpg enlarged to 4000x3000 (no shared photo is 12 MP)');
  }
  const path = join(tmp, 'scene-4000x3000.png');
  await writeScene(path, width, height, 12);
  return withPoints(path, width, height, 'generated 4000x3000 scene');
}
