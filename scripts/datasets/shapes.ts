/**
 * Synthetic masks that are hard on YOLO-seg outlines read back through ultralytics'
 * resampling: long straight edges (few vertices far apart), long 45° edges, holes, several
 * parts, round outlines, an outline of more than 999 vertices beside small ones in the same
 * image (ultralytics then resamples the whole image to more points), masks one pixel wide,
 * and single-pixel holes. Used by scripts/check-datasets.ts (test/yolo-resampling.test.ts
 * has its own, smaller set).
 */
import type { BinaryMask } from '../../src/masks/types.js';

/** One image's worth of masks (one YOLO-seg line each). */
export interface ShapeImage {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly masks: readonly BinaryMask[];
}

function mask(width: number, height: number, inside: (x: number, y: number) => boolean): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = inside(x, y) ? 1 : 0;
  return { width, height, data };
}

const inRect = (x: number, y: number, x0: number, y0: number, x1: number, y1: number) => x >= x0 && x < x1 && y >= y0 && y < y1;

/** The shape images, deterministic. */
export function resamplingShapes(): ShapeImage[] {
  const straight = (f: (x: number, y: number) => boolean) => mask(1600, 1200, f);
  const diagonal = (f: (x: number, y: number) => boolean) => mask(1200, 1000, f);
  const round = (f: (x: number, y: number) => boolean) => mask(1000, 800, f);
  const comb = (f: (x: number, y: number) => boolean) => mask(1400, 400, f);
  const thin = (f: (x: number, y: number) => boolean) => mask(400, 300, f);
  return [
    {
      name: 'straight-edges.png',
      width: 1600,
      height: 1200,
      masks: [
        straight((x, y) => inRect(x, y, 200, 150, 1400, 1050)),
        straight((x, y) => inRect(x, y, 100, 100, 1500, 300) || inRect(x, y, 100, 100, 300, 1100)),
        straight((x, y) => inRect(x, y, 400, 400, 1200, 900) && !inRect(x, y, 500, 480, 1100, 820)),
        straight((x, y) => inRect(x, y, 50, 700, 700, 1150) || inRect(x, y, 900, 50, 1550, 600)),
        // Hundreds of vertices along the top, three long straight sides: index-spaced points
        // crowd the top and leave a few for each long side.
        straight((x, y) => inRect(x, y, 100, 400, 1500, 1150) || (inRect(x, y, 100, 390, 1500, 400) && x % 16 < 8)),
      ],
    },
    {
      name: 'diagonals.png',
      width: 1200,
      height: 1000,
      masks: [
        diagonal((x, y) => Math.abs(x - 600) + Math.abs(y - 500) <= 420),
        diagonal((x, y) => x >= 100 && y < 900 && y - x >= 0 && x < 800),
        diagonal((x, y) => Math.abs(x - 600) <= 350 && Math.abs(y - 500) <= 350 && Math.abs(x - 600) + Math.abs(y - 500) <= 500),
        diagonal((x, y) => Math.abs(x - 600) + Math.abs(y - 500) <= 300 && Math.abs(x - 600) + Math.abs(y - 500) > 150),
      ],
    },
    {
      name: 'round.png',
      width: 1000,
      height: 800,
      masks: [
        round((x, y) => (x - 500) ** 2 + (y - 400) ** 2 <= 300 ** 2),
        round((x, y) => {
          const d = (x - 500) ** 2 + (y - 400) ** 2;
          return d <= 350 ** 2 && d > 200 ** 2;
        }),
        round((x, y) => {
          const u = (x - 500) * Math.cos(0.5) + (y - 400) * Math.sin(0.5);
          const v = -(x - 500) * Math.sin(0.5) + (y - 400) * Math.cos(0.5);
          return (u / 420) ** 2 + (v / 160) ** 2 <= 1;
        }),
        round((x, y) => [150, 350, 550, 750].some((cx) => (x - cx) ** 2 + (y - 650) ** 2 <= 70 ** 2)),
      ],
    },
    {
      name: 'comb.png',
      width: 1400,
      height: 400,
      masks: [
        // 300 teeth: an outline of about 1200 vertices, beside a square in the same image.
        comb((x, y) => (inRect(x, y, 50, 50, 1350, 100) || (inRect(x, y, 50, 100, 1350, 300) && (x - 50) % 4 < 2))),
        comb((x, y) => inRect(x, y, 600, 320, 900, 390)),
      ],
    },
    {
      name: 'thin.png',
      width: 400,
      height: 300,
      masks: [
        thin((x, y) => y === 40 && x >= 20 && x < 380),
        thin((x, y) => x === y && x >= 60 && x < 260),
        thin((x, y) => x === 300 && y === 200),
        thin((x, y) => inRect(x, y, 100, 150, 300, 280) && !(x % 6 === 3 && y % 6 === 3 && inRect(x, y, 150, 180, 250, 250))),
      ],
    },
  ];
}
