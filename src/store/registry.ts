/**
 * The model catalog: models/registry.json, shipped with the package, validated once and
 * normalised to {@link ModelEntry}. Built-in entries point at files inside the package.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../util/errors.js';
import { packageModelsDir } from './paths.js';
import { checkFamilyShape, familySchema, filesOf, formatIssues, imgszSchema, isHttpUrl, nameSchema, sha256Schema, sizeSchema } from './schema.js';
import { entryFiles, type ModelEntry, type ModelFile, type ModelRole } from './types.js';

const remoteFileSchema = z
  .object({
    url: z.string().refine((value) => isHttpUrl(value, true), { error: 'must be an https URL' }),
    // Optional only here: a publisher that pins its files by hash alone (osam's SAM 2.1).
    size: sizeSchema.optional(),
    sha256: sha256Schema,
  })
  .strict();

const builtinFileSchema = z
  .object({
    path: z.string().min(1),
    size: sizeSchema.optional(),
    sha256: sha256Schema.optional(),
  })
  .strict();

const commonFields = {
  name: nameSchema,
  family: familySchema,
  description: z.string().min(1),
  license: z.string().min(1),
  homepage: z.string().optional(),
  /** One line `pull` shows before fetching (a licence that differs from samlite's, say). */
  notice: z.string().min(1).optional(),
  imgsz: imgszSchema.optional(),
};

const entrySchema = z.union([
  z.object({ ...commonFields, builtin: z.literal(false).optional(), files: filesOf(remoteFileSchema).strict() }).strict().superRefine(checkFamilyShape),
  z.object({ ...commonFields, builtin: z.literal(true), files: filesOf(builtinFileSchema).strict() }).strict().superRefine(checkFamilyShape),
]);

const registrySchema = z
  .object({
    $comment: z.string().optional(),
    models: z.array(entrySchema).min(1),
  })
  .strict()
  .superRefine((registry, ctx) => {
    const seen = new Set<string>();
    for (const [index, entry] of registry.models.entries()) {
      if (seen.has(entry.name)) ctx.addIssue({ code: 'custom', path: ['models', index, 'name'], message: `duplicate model name ${entry.name}` });
      seen.add(entry.name);
    }
  });

/** The raw catalog as stored in models/registry.json. */
export type RegistryData = z.infer<typeof registrySchema>;

/** Path of the catalog file inside the package. */
export function registryPath(): string {
  return join(packageModelsDir(), 'registry.json');
}

/**
 * Parse and validate catalog data. Exported so tests can feed broken catalogs; a broken
 * shipped catalog is a packaging bug, reported as a usage error naming the file.
 */
export function parseRegistry(data: unknown, source = 'models/registry.json', modelsDir = packageModelsDir()): ModelEntry[] {
  const parsed = registrySchema.safeParse(data);
  if (!parsed.success) throw new UsageError(`catalog ${source} is invalid: ${formatIssues(parsed.error)}`);
  return parsed.data.models.map((entry): ModelEntry => {
    const files: Partial<Record<ModelRole, ModelFile>> = {};
    for (const [role, file] of entryFiles<z.infer<typeof remoteFileSchema> | z.infer<typeof builtinFileSchema>>(entry)) {
      files[role] =
        'url' in file
          ? { kind: 'remote', url: file.url, size: file.size, sha256: file.sha256.toLowerCase() }
          : { kind: 'local', path: resolve(modelsDir, file.path), size: file.size, sha256: file.sha256?.toLowerCase() };
    }
    return {
      name: entry.name,
      family: entry.family,
      description: entry.description,
      license: entry.license,
      homepage: entry.homepage,
      notice: entry.notice,
      imgsz: entry.imgsz,
      builtin: entry.builtin === true,
      source: 'catalog',
      files,
    };
  });
}

let cached: readonly ModelEntry[] | undefined;

/** Every catalog entry, in catalog order (read once per process). */
export function loadRegistry(): readonly ModelEntry[] {
  if (!cached) {
    const path = registryPath();
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new UsageError(`catalog ${path} cannot be read: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    cached = parseRegistry(data, path);
  }
  return cached;
}

/** The catalog entry called `name`, or undefined. */
export function findCatalogEntry(name: string): ModelEntry | undefined {
  return loadRegistry().find((entry) => entry.name === name);
}

/** Names of every catalog model, built-ins included. */
export function catalogNames(): string[] {
  return loadRegistry().map((entry) => entry.name);
}
