/**
 * The models tables of README.md and docs/models.md list every model of the catalog
 * (models/registry.json) with its family, download size and licence, so they cannot drift
 * from it; any other docs table with a `model` column states the same facts where it has
 * those columns.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishedMarkdown, readDoc, tablesOf, type Table } from './helpers/markdown.js';
import { ROOT } from './helpers/run-cli.js';

interface CatalogModel {
  name: string;
  family: string;
  license: string;
  builtin?: boolean;
  files: Record<string, { size?: number }>;
}
const catalog: CatalogModel[] = JSON.parse(readFileSync(join(ROOT, 'models', 'registry.json'), 'utf8')).models;

/**
 * The download column's wording: megabytes (10^6) to one decimal; "built in"; or "not
 * stated" when the catalog leaves a file's byte size out (its publisher states none, as for
 * SAM 2.1: the sha256 decides), so a table cannot print a size the catalog does not have.
 */
function downloadSize(model: CatalogModel): string {
  if (model.builtin) return 'built in';
  const sizes = Object.values(model.files).map((file) => file.size);
  if (sizes.some((size) => size === undefined)) return 'not stated';
  const bytes = sizes.reduce((sum: number, size) => sum + size!, 0);
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** What each column of a models table must say about `model`. */
const COLUMNS: Record<string, (model: CatalogModel) => string> = {
  family: (m) => m.family,
  download: downloadSize,
  licence: (m) => m.license,
};

/** The tables of `page` whose first column is `model`. */
function modelTables(page: string): Table[] {
  return tablesOf(readDoc(page)).filter((t) => t.header[0] === 'model');
}

/** Each row naming a catalog model, against the catalog: the cells that differ. */
function differences(page: string, table: Table): string[] {
  const out: string[] = [];
  for (const row of table.rows) {
    const model = catalog.find((m) => m.name === row[0]);
    if (!model) continue;
    table.header.forEach((column, i) => {
      const want = COLUMNS[column]?.(model);
      if (want !== undefined && row[i] !== want) out.push(`${page}: ${model.name}, ${column}: "${row[i]}", the catalog says "${want}"`);
    });
  }
  return out;
}

describe('models tables', () => {
  it.each(['README.md', 'docs/models.md'])('%s lists every catalog model with its family, download size and licence', (page) => {
    const [table] = modelTables(page).filter((t) => ['family', 'download', 'licence'].every((c) => t.header.includes(c)));
    expect(table, `${page} has a table with columns model, family, download, licence`).toBeDefined();
    expect(table.rows.map((row) => row[0]).sort()).toEqual(catalog.map((m) => m.name).sort());
    expect(differences(page, table)).toEqual([]);
  });

  it('every docs table with a model column agrees with the catalog', () => {
    const tables = publishedMarkdown().flatMap((page) => modelTables(page).map((table) => ({ page, table })));
    expect(tables.length).toBeGreaterThanOrEqual(3);
    expect(tables.flatMap(({ page, table }) => differences(page, table))).toEqual([]);
  });

  it('would notice a wrong size, family or licence, and a size the catalog does not state (the comparison is not a no-op)', () => {
    const table: Table = {
      header: ['model', 'family', 'download', 'licence'],
      rows: [
        ['fastsam-s', 'sam', '47.2 MB', 'Apache-2.0'],
        ['sam2.1-tiny', 'sam2', '≈149 MB', 'Apache-2.0'],
        ['builtin-sam2', 'sam2', 'not stated', 'Apache-2.0'],
      ],
    };
    expect(differences('x.md', table)).toEqual([
      'x.md: fastsam-s, family: "sam", the catalog says "fastsam"',
      'x.md: fastsam-s, download: "47.2 MB", the catalog says "47.3 MB"',
      'x.md: fastsam-s, licence: "Apache-2.0", the catalog says "AGPL-3.0"',
      'x.md: sam2.1-tiny, download: "≈149 MB", the catalog says "not stated"',
      'x.md: builtin-sam2, download: "not stated", the catalog says "built in"',
    ]);
  });
});
