/**
 * README.md is assembled from the fragments in docs/readme/, one per area, so each area's
 * text sits beside the others it is edited with and the README never drifts from them.
 *
 *   npx tsx scripts/build-readme.ts           write README.md
 *   npx tsx scripts/build-readme.ts --check   exit 1 when README.md is not the assembly
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');

/** Fragment order: the README's section order. */
export const README_FRAGMENTS = [
  'intro',
  'segment',
  'everything-cli',
  'everything',
  'fastsam',
  'models',
  'formats',
  'datasets',
  'images',
  'builtin-models',
  'conformance',
  'performance',
  'cluster',
  'ranges',
  'node',
  'development',
] as const;

/** The README text the fragments make. */
export function assembleReadme(root = ROOT): string {
  return README_FRAGMENTS.map((name) => readFileSync(join(root, 'docs', 'readme', `${name}.md`), 'utf8').trimEnd() + '\n').join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  const want = assembleReadme();
  const path = join(ROOT, 'README.md');
  if (process.argv.includes('--check')) {
    if (readFileSync(path, 'utf8') !== want) {
      console.error('README.md differs from docs/readme/*.md: run npx tsx scripts/build-readme.ts');
      process.exit(1);
    }
  } else {
    writeFileSync(`${path}.tmp`, want);
    renameSync(`${path}.tmp`, path);
  }
}
