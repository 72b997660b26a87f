/**
 * Development check: samlite's dataset files read back by the tools they are meant for.
 * Runs the built CLI (npm run build first) with the built-in model on the fixtures —
 * `segment` with a COCO detection file, `everything` — writing every dataset format, then
 * scripts/datasets/roundtrip.py checks them with pycocotools (COCO() loads, every annotation
 * decodes to the mask samlite wrote, area and bbox agree, ids unique, categories carried
 * from the detection file), OpenCV (YOLO-seg labels fill back to the masks), PIL (labelme)
 * and the Label Studio tasks (polygons, and brush masks through an rle-pack decoder).
 * It also writes YOLO-seg labels for the synthetic shapes of scripts/datasets/shapes.ts
 * (long straight and 45° edges, holes, parts, an outline past 999 vertices).
 *
 * With --ultralytics DIR (the folder holding an ultralytics source tree's `ultralytics/`:
 * a clone, or the site-packages of an install; repeat it to compare versions), every
 * YOLO-seg dataset is also read with that ultralytics' own label-reading code
 * (update_labels_info -> resample_segments -> polygons2masks, see
 * scripts/datasets/ultralytics_reader.py), at mask ratio 1 and at training's default 4.
 * samlite ships none of that code; nothing is imported from the package itself (no torch).
 *
 *   npx tsx scripts/check-datasets.ts [--python /path/to/python] [--ultralytics DIR]... [--keep]
 *
 * Python: --python, else $SAMLITE_PYTHON, else python3 on PATH; it needs pycocotools,
 * numpy, opencv-python, Pillow and PyYAML. Without one the script says so and exits 2.
 * Exit 0 when every check passes, 1 when one fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { writeDatasetFiles, writeDatasetImage, datasetSource, type DatasetImage } from '../src/datasets/index.js';
import { maskToRle } from '../src/masks/rle.js';
import { resamplingShapes } from './datasets/shapes.js';
import { FIXTURES_DIR, fixtureScene, readFixtureIndex } from './fixtures/index.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'samlite');
const MODULES = ['pycocotools', 'numpy', 'cv2', 'PIL', 'yaml'];

function findPython(): string | undefined {
  const flag = process.argv.indexOf('--python');
  const candidates = [flag >= 0 ? process.argv[flag + 1] : undefined, process.env.SAMLITE_PYTHON, 'python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', `import ${MODULES.join(', ')}`], { encoding: 'utf8' });
    if (probe.status === 0) return python;
    console.error(`${python}: ${probe.error ? 'not found' : `cannot import all of ${MODULES.join(', ')}`}`);
  }
  return undefined;
}

function samlite(args: string[], cwd: string): void {
  const run = spawnSync(process.execPath, [BIN, ...args, '--quiet'], { cwd, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`samlite ${args.join(' ')} exited ${run.status}:\n${run.stderr}`);
}

/** Every `--ultralytics DIR` given, each checked to hold ultralytics' source files. */
function ultralyticsSources(): string[] {
  const dirs = process.argv.flatMap((a, i) => (a === '--ultralytics' && process.argv[i + 1] ? [resolve(process.argv[i + 1])] : []));
  for (const dir of dirs) {
    if (!existsSync(join(dir, 'ultralytics', 'utils', 'ops.py'))) throw new Error(`--ultralytics ${dir}: no ultralytics/utils/ops.py there; give the folder that holds ultralytics/`);
  }
  return dirs;
}

/**
 * YOLO-seg datasets of the synthetic shapes in `work/<name>`, one per tolerance, written by
 * the same writer calls a run makes (over blank images of the shapes' sizes).
 */
async function writeShapeDatasets(work: string): Promise<void> {
  const category = { id: 1, name: 'shape' };
  for (const tolerance of [0, 0.3]) {
    const outDir = join(work, `shapes-${tolerance}`);
    const images: DatasetImage[] = [];
    for (const shape of resamplingShapes()) {
      const path = join(work, 'shape-images', shape.name);
      mkdirSync(dirname(path), { recursive: true });
      if (!existsSync(path)) await sharp({ create: { width: shape.width, height: shape.height, channels: 3, background: '#808080' } }).png().toFile(path);
      const image: DatasetImage = {
        fileName: shape.name,
        path,
        width: shape.width,
        height: shape.height,
        annotations: shape.masks.map((m) => ({ rle: maskToRle(m), categoryId: category.id, predictedIou: 1 })),
      };
      await writeDatasetImage(image, { input: path, outDir }, { formats: ['yolo-seg'], categories: [category], polygonTolerance: tolerance });
      images.push(image);
    }
    await writeDatasetFiles(outDir, datasetSource(images, [category]), { formats: ['yolo-seg'], polygonTolerance: tolerance });
  }
}

async function main(): Promise<number> {
  const python = findPython();
  if (!python) {
    console.error('check-datasets: no Python with pycocotools, numpy, opencv, Pillow and PyYAML found; give one with --python or SAMLITE_PYTHON. Nothing was checked.');
    return 2;
  }
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    console.error('check-datasets: dist/ is missing: run npm run build first');
    return 2;
  }
  let ultralytics: string[];
  try {
    ultralytics = ultralyticsSources();
  } catch (err) {
    console.error(`check-datasets: ${(err as Error).message}`);
    return 2;
  }
  const work = mkdtempSync(join(tmpdir(), 'samlite-check-datasets-'));
  try {
    // A detection file with a box round every shape of the fixture scenes, two categories.
    const index = await readFixtureIndex();
    const scenes = ['landscape', 'portrait', 'box', 'near-colours', 'exif-orientation-6'].map((n) => fixtureScene(index, n));
    const dets = {
      images: scenes.map((s, i) => ({ id: i + 1, file_name: s.image, width: s.width, height: s.height })),
      annotations: scenes.flatMap((s, i) =>
        s.shapes.map((shape) => ({
          id: 1000 * (i + 1) + shape.id,
          image_id: i + 1,
          category_id: 1 + (shape.id % 2),
          bbox: [shape.bbox.x1, shape.bbox.y1, shape.bbox.x2 - shape.bbox.x1 + 1, shape.bbox.y2 - shape.bbox.y1 + 1],
          score: 0.9,
        })),
      ),
      categories: [
        { id: 1, name: 'odd' },
        { id: 2, name: 'even' },
      ],
    };
    writeFileSync(join(work, 'dets.json'), JSON.stringify(dets));
    const all = ['--format', 'coco,yolo-seg,labelme,labelstudio'];
    samlite(['segment', '--prompts', 'dets.json', '--image-root', FIXTURES_DIR, ...all, '--polygon-tolerance', '0', '--out', 'seg'], work);
    samlite(['segment', '--prompts', 'dets.json', '--image-root', FIXTURES_DIR, '--format', 'coco', '--coco-segmentation', 'polygon', '--polygon-tolerance', '0', '--out', 'seg-poly'], work);
    samlite(['segment', '--prompts', 'dets.json', '--image-root', FIXTURES_DIR, '--format', 'labelstudio', '--labelstudio-masks', 'brush', '--out', 'seg-brush'], work);
    const images = scenes.map((s) => join(FIXTURES_DIR, s.image));
    samlite(['everything', ...images, '--grid', '16', ...all, '--polygon-tolerance', '0', '--out', 'every'], work);
    samlite(['everything', ...images, '--grid', '16', '--format', 'coco', '--coco-segmentation', 'polygon', '--out', 'every-poly'], work);
    await writeShapeDatasets(work);
    console.log(`samlite outputs in ${work}; checking with ${python} (${execFileSync(python, ['-c', 'import pycocotools, cv2; print("pycocotools", getattr(pycocotools, "__version__", "?"), "opencv", cv2.__version__)'], { encoding: 'utf8' }).trim()})`);
    const readers = ultralytics.flatMap((dir) => ['--ultralytics', dir]);
    const check = spawnSync(python, [join(ROOT, 'scripts', 'datasets', 'roundtrip.py'), work, ...readers], { stdio: 'inherit' });
    return check.status ?? 1;
  } finally {
    if (process.argv.includes('--keep')) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
