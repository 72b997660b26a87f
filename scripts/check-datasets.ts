/**
 * Development check: samlite's dataset files read back by the tools they are meant for.
 * Runs the built CLI (npm run build first) with the built-in model on the fixtures —
 * `segment` with a COCO detection file, `everything` — writing every dataset format, then
 * scripts/datasets/roundtrip.py checks them with pycocotools (COCO() loads, every annotation
 * decodes to the mask samlite wrote, area and bbox agree, ids unique, categories carried
 * from the detection file), OpenCV (YOLO-seg labels fill back to the masks), PIL (labelme)
 * and the Label Studio tasks (polygons, and brush masks through an rle-pack decoder).
 *
 *   npx tsx scripts/check-datasets.ts [--python /path/to/python] [--keep]
 *
 * Python: --python, else $SAMLITE_PYTHON, else python3 on PATH; it needs pycocotools,
 * numpy, opencv-python, Pillow and PyYAML. Without one the script says so and exits 2.
 * Exit 0 when every check passes, 1 when one fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    console.log(`samlite outputs in ${work}; checking with ${python} (${execFileSync(python, ['-c', 'import pycocotools, cv2; print("pycocotools", getattr(pycocotools, "__version__", "?"), "opencv", cv2.__version__)'], { encoding: 'utf8' }).trim()})`);
    const check = spawnSync(python, [join(ROOT, 'scripts', 'datasets', 'roundtrip.py'), work], { stdio: 'inherit' });
    return check.status ?? 1;
  } finally {
    if (process.argv.includes('--keep')) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
