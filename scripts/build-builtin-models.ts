/**
 * Writes the built-in models (a classical colour-region segmenter in ONNX form, see
 * docs/builtin-models.md) to models/builtin/. Deterministic: the same source gives
 * byte-identical files, and a test checks the committed files against a fresh build.
 *
 *   npm run build:models            write the files
 *   npm run build:models -- --check exit 1 if the committed files are stale
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_FASTSAM_FILE, buildFastSam } from './onnx/builtin-fastsam.js';
import { buildAllBuiltinModels } from './onnx/builtin-segmenter.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'models', 'builtin');
const check = process.argv.includes('--check');

let stale = 0;
mkdirSync(outDir, { recursive: true });
for (const [file, bytes] of Object.entries({ ...buildAllBuiltinModels(), [BUILTIN_FASTSAM_FILE]: buildFastSam() })) {
  const path = join(outDir, file);
  const same = existsSync(path) && Buffer.compare(readFileSync(path), bytes) === 0;
  if (check) {
    if (!same) {
      stale++;
      console.error(`stale: ${relative(root, path)}`);
    }
    continue;
  }
  if (!same) writeFileSync(path, bytes);
  console.log(`${same ? 'unchanged' : 'wrote'} ${relative(root, path)} (${bytes.length} bytes)`);
}
if (stale) {
  console.error('run `npm run build:models` and commit models/builtin/');
  process.exit(1);
}
