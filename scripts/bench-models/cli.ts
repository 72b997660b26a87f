/**
 * Builds (or finds up to date) the benchmark model pairs and prints their costs.
 *
 *   npx tsx scripts/bench-models/cli.ts [--force] [--mini] [--dir <folder>]
 *
 * `--mini` builds the tiny test pairs instead. Each pair lands in `<dir>/<name>/` with a
 * manifest, so `samlite segment img.jpg --model <dir>/<name>/manifest.json` runs it.
 */
import { BENCH_PAIRS, MINI_BENCH_PAIRS, ensureBenchModels } from './models.js';

const args = process.argv.slice(2);
const dirIndex = args.indexOf('--dir');
const infos = ensureBenchModels({
  dir: dirIndex >= 0 ? args[dirIndex + 1] : undefined,
  pairs: args.includes('--mini') ? MINI_BENCH_PAIRS : BENCH_PAIRS,
  force: args.includes('--force'),
  log: (line) => console.error(line),
});
const g = (n: number) => (n / 1e9).toFixed(2);
const m = (n: number) => (n / 1e6).toFixed(2);
for (const info of infos) {
  console.log(`${info.name} (${info.family}): ${info.manifest}`);
  for (const role of ['encoder', 'decoder'] as const) {
    const c = info.cost[role];
    const parts = Object.entries(c.parts)
      .map(([k, v]) => `${k} ${g(v)}`)
      .join(', ');
    console.log(`  ${role}: ${g(c.macs)} GMAC, ${m(c.params)} M params, ${m(info.bytes[role])} MB  [${parts}]`);
  }
}
