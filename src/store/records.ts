/**
 * Install records: `<store>/models/<name>/installed.json`, written last when a model's files
 * are all in place and verified. A model folder without one is an unfinished pull and counts
 * as not installed. The record also remembers a manifest model, so it can later be named
 * without its manifest path.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-write.js';
import { modelDir, modelsRoot, recordPath, storedFileName } from './paths.js';
import { checkFamilyShape, familySchema, filesOf, imgszSchema, nameSchema, sha256Schema, sizeSchema } from './schema.js';
import { entryFiles, type ModelEntry, type ModelFile, type ModelRole } from './types.js';

const recordFileSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('remote'), file: z.string(), url: z.string(), size: sizeSchema, sha256: sha256Schema }),
  z.object({ kind: z.literal('local'), path: z.string(), size: sizeSchema.optional(), sha256: sha256Schema.optional() }),
]);

// A record whose files are not its family's roles (hand-edited or corrupt) fails here, so it
// counts as not installed instead of reaching code that takes every role's file as given.
const recordSchema = z
  .object({
    version: z.literal(1),
    name: nameSchema,
    family: familySchema,
    description: z.string(),
    license: z.string().optional(),
    homepage: z.string().optional(),
    source: z.enum(['catalog', 'manifest']),
    manifestPath: z.string().optional(),
    installedAt: z.string(),
    imgsz: imgszSchema.optional(),
    files: filesOf(recordFileSchema),
  })
  .superRefine(checkFamilyShape);

/** What installed.json holds. */
export type InstallRecord = z.infer<typeof recordSchema>;

/** The record of `name`, or undefined when absent or unreadable (an unreadable record means "not installed"). */
export function readRecord(store: string, name: string): InstallRecord | undefined {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(readFileSync(recordPath(store, name), 'utf8')));
    return parsed.success && parsed.data.name === name ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Mark `entry` as installed; call only after every remote file is verified in place. */
export async function writeRecord(store: string, entry: ModelEntry): Promise<void> {
  const files: InstallRecord['files'] = {};
  const paths = filePaths(store, entry);
  for (const [role, file] of entryFiles(entry)) {
    files[role] =
      file.kind === 'remote'
        ? // A size the catalog does not state is the verified file's, from here on checked like any.
          { kind: 'remote', file: storedFileName(role, file.url), url: file.url, size: file.size ?? statSync(paths[role]!).size, sha256: file.sha256 }
        : { kind: 'local', path: file.path, size: file.size, sha256: file.sha256 };
  }
  const record: InstallRecord = {
    version: 1,
    name: entry.name,
    family: entry.family,
    description: entry.description,
    license: entry.license,
    homepage: entry.homepage,
    source: entry.source,
    manifestPath: entry.manifestPath,
    installedAt: new Date().toISOString(),
    imgsz: entry.imgsz,
    files,
  };
  await writeFileAtomic(recordPath(store, entry.name), `${JSON.stringify(record, null, 2)}\n`);
}

/** Rebuild the model an install record describes (used for manifest models named by name). */
export function entryFromRecord(record: InstallRecord): ModelEntry {
  const files: Partial<Record<ModelRole, ModelFile>> = {};
  for (const [role, file] of entryFiles(record)) {
    files[role] = file.kind === 'remote' ? { kind: 'remote', url: file.url, size: file.size, sha256: file.sha256 } : { kind: 'local', path: file.path, size: file.size, sha256: file.sha256 };
  }
  return {
    name: record.name,
    family: record.family,
    description: record.description,
    license: record.license,
    homepage: record.homepage,
    builtin: false,
    source: record.source,
    manifestPath: record.manifestPath,
    imgsz: record.imgsz,
    files,
  };
}

/** Names of every model folder that holds a readable install record, sorted. */
export function installedNames(store: string): string[] {
  let names: string[];
  try {
    names = readdirSync(modelsRoot(store));
  } catch {
    return [];
  }
  return names.filter((name) => readRecord(store, name) !== undefined).sort();
}

/** Where each file of `entry` is, or would be once pulled. */
export function filePaths(store: string, entry: ModelEntry): Partial<Record<ModelRole, string>> {
  const paths: Partial<Record<ModelRole, string>> = {};
  for (const [role, file] of entryFiles(entry)) {
    paths[role] = file.kind === 'remote' ? join(modelDir(store, entry.name), storedFileName(role, file.url)) : file.path;
  }
  return paths;
}

/** Per-role reason a file is not usable, or undefined when usable. */
export type MissingFiles = Partial<Record<ModelRole, string>>;

/**
 * Whether every file of `entry` is usable without a download: local files exist, and remote
 * files are in the store under a record that vouches for the same sha256 and at the expected
 * size. Cheap (no hashing): `verify` is the command that re-hashes.
 */
export function missingFiles(store: string, entry: ModelEntry): MissingFiles {
  const record = readRecord(store, entry.name);
  const paths = filePaths(store, entry);
  const missing: MissingFiles = {};
  for (const [role, file] of entryFiles(entry)) {
    const path = paths[role]!;
    if (file.kind === 'local') {
      if (!existsSync(path)) missing[role] = `${path} not found`;
      continue;
    }
    const recorded = record?.files[role];
    if (!recorded || recorded.kind !== 'remote' || recorded.sha256 !== file.sha256) {
      missing[role] = 'not pulled';
      continue;
    }
    let size: number | undefined;
    try {
      size = statSync(path).size;
    } catch {
      size = undefined;
    }
    const expected = file.size ?? recorded.size;
    if (size !== expected) missing[role] = size === undefined ? `${path} is missing` : `${path} has ${size} bytes, expected ${expected}`;
  }
  return missing;
}
