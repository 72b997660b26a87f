/**
 * A user's own export, described by a manifest JSON file. Anywhere a model name is
 * accepted a manifest path is accepted too; {@link looksLikeManifestPath} decides which.
 *
 *   {"name": "my-sam", "family": "sam",
 *    "files": {"encoder": {"path": "encoder.onnx"},
 *              "decoder": {"url": "https://…/decoder.onnx", "sha256": "…", "size": 16496559}}}
 *
 *   {"name": "my-fastsam", "family": "fastsam", "imgsz": 1024,
 *    "files": {"model": {"path": "FastSAM-s.onnx"}}}
 *
 * `path` files resolve against the manifest's folder and are used in place; `url` files are
 * pulled into the store like catalog files.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../util/errors.js';
import { findCatalogEntry } from './registry.js';
import { checkFamilyShape, FAMILY_ROLES_IN_WORDS, familySchema, filesOf, formatIssues, imgszSchema, isHttpUrl, MODEL_NAME_RE, nameSchema, sha256Schema, sizeSchema } from './schema.js';
import { entryFiles, type ModelEntry, type ModelFile, type ModelRole } from './types.js';

const fileSchema = z
  .object({
    path: z.string().min(1, { error: 'must not be empty' }).optional(),
    url: z.string().optional(),
    sha256: sha256Schema.optional(),
    size: sizeSchema.optional(),
  }, { error: (issue) => (issue.input === undefined ? 'is missing' : 'must be an object with "path" or "url"') })
  .strict()
  .superRefine((file, ctx) => {
    if ((file.path === undefined) === (file.url === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of "path" or "url"' });
      return;
    }
    if (file.url !== undefined) {
      if (!isHttpUrl(file.url)) ctx.addIssue({ code: 'custom', path: ['url'], message: `must be an http or https URL, got ${JSON.stringify(file.url)}` });
      // Without both, a url file could not be verified, and the store promises verified files only.
      if (file.sha256 === undefined) ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'is missing (a url file needs its sha256)' });
      if (file.size === undefined) ctx.addIssue({ code: 'custom', path: ['size'], message: 'is missing (a url file needs its byte size)' });
    }
  });

const manifestSchema = z
  .object({
    name: nameSchema.optional(),
    family: familySchema,
    description: z.string().optional(),
    license: z.string().optional(),
    homepage: z.string().optional(),
    imgsz: imgszSchema.optional(),
    files: filesOf(fileSchema, {
      error: (issue) => (issue.input === undefined ? 'is missing' : `must be an object of files by role (${FAMILY_ROLES_IN_WORDS})`),
    })
      // Unknown keys pass here so that checkFamilyShape names each with the family's roles.
      .catchall(z.unknown()),
  })
  .loose()
  .superRefine(checkFamilyShape);

/**
 * Whether a model argument names a manifest file rather than a catalog or installed model:
 * it ends in .json, contains a path separator, or is an existing file. Catalog names win
 * over same-named files in the working folder.
 */
export function looksLikeManifestPath(spec: string): boolean {
  if (findCatalogEntry(spec)) return false;
  if (/\.json$/i.test(spec) || spec.includes('/') || spec.includes('\\')) return true;
  try {
    return statSync(spec).isFile();
  } catch {
    return false;
  }
}

/**
 * Read and check a manifest. Every problem (unreadable file, bad JSON, unknown family,
 * missing role, missing local file, malformed hash) is a UsageError of one line naming the
 * manifest and the problem.
 */
export function loadManifest(manifestPath: string, cwd = process.cwd()): ModelEntry {
  const path = resolve(cwd, manifestPath);
  const fail = (problem: string): never => {
    throw new UsageError(`manifest ${manifestPath}: ${problem}`);
  };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a JSON file' : `cannot be read (${code ?? String(err)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return fail(`not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return fail('must be a JSON object with "family" and "files"');
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) return fail(formatIssues(parsed.error));
  const manifest = parsed.data;

  const fallbackName = basename(path, extname(path));
  const name = manifest.name ?? fallbackName;
  if (!MODEL_NAME_RE.test(name)) fail(`no "name" given and the file name ${JSON.stringify(fallbackName)} is not a valid model name; add a "name"`);
  // A manifest model's downloads live in the store under its name; sharing a catalog name
  // would mix its files with the catalog model's.
  if (findCatalogEntry(name)) fail(`name ${JSON.stringify(name)} is taken by a catalog model; choose another name`);

  const folder = dirname(path);
  const files: Partial<Record<ModelRole, ModelFile>> = {};
  for (const [role, file] of entryFiles(manifest)) {
    if (file.url !== undefined) {
      files[role] = { kind: 'remote', url: file.url, size: file.size!, sha256: file.sha256!.toLowerCase() };
    } else {
      const filePath = resolve(folder, file.path!);
      if (!existsSync(filePath)) fail(`${role} file ${filePath} not found`);
      else if (!statSync(filePath).isFile()) fail(`${role} file ${filePath} is not a file`);
      files[role] = { kind: 'local', path: filePath, size: file.size, sha256: file.sha256?.toLowerCase() };
    }
  }
  return {
    name,
    family: manifest.family,
    description: manifest.description ?? `user model from ${path}`,
    license: manifest.license,
    homepage: manifest.homepage,
    builtin: false,
    source: 'manifest',
    manifestPath: path,
    imgsz: manifest.imgsz,
    files,
  };
}
