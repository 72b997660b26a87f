/**
 * `npm run build:fixtures [-- <outDir>]`: regenerate the committed fixtures (default:
 * fixtures/ at the repository root). Deterministic: rerunning changes no pixel.
 */
import { relative } from 'node:path';
import { buildFixtures } from './fixtures/build.js';
import { FIXTURES_DIR } from './fixtures/index-file.js';

const outDir = process.argv[2] ?? FIXTURES_DIR;
const written = await buildFixtures(outDir);
console.error(`wrote ${written.length} files to ${relative(process.cwd(), outDir) || '.'}`);
