/**
 * Turning a model argument into files on disk, and the default-model rule:
 *
 *   explicit model (--model) > $SAMLITE_MODEL > `samlite models default` (config.json)
 *   > the first installed of efficientsam-s, efficientsam-ti, mobilesam, sam-vit-b
 *   > the built-in classical segmenter.
 *
 * An explicitly chosen model (any of the first three) that is not installed is an error,
 * never a silent fallback: only the last two steps pick a model on the user's behalf.
 */
import { UsageError } from '../util/errors.js';
import { readConfig, writeConfig } from './config.js';
import { loadManifest, looksLikeManifestPath } from './manifest.js';
import { storeDir } from './paths.js';
import { entryFromRecord, filePaths, installedNames, missingFiles, readRecord } from './records.js';
import { catalogNames, findCatalogEntry } from './registry.js';
import { entryFiles, entryRoles, type ModelEntry, type ResolvedModel, type StoreOptions } from './types.js';

/** Options for resolving: the store, plus the folder relative manifest paths start from. */
export interface ResolveOptions extends StoreOptions {
  /** Base for relative manifest paths (default process.cwd()). */
  readonly cwd?: string;
}

/** Catalog models tried, in this order, when nothing was chosen: best quality/speed first. */
export const DEFAULT_PREFERENCE: readonly string[] = ['efficientsam-s', 'efficientsam-ti', 'mobilesam', 'sam-vit-b'];

/** The model used when no neural model is installed. */
export const BUILTIN_MODEL = 'builtin';

/** What the segment command prints (on stderr) when it falls back to the built-in model. */
export const BUILTIN_FALLBACK_NOTICE =
  'using the built-in classical segmenter (no neural model installed); for real masks run `samlite models pull efficientsam-ti`';

/**
 * Find the model a name or manifest path stands for: a catalog name, a manifest file, or a
 * manifest model installed earlier under its name. Unknown names are a UsageError listing
 * the known ones.
 */
export function lookupModel(spec: string, options: ResolveOptions = {}): ModelEntry {
  const catalog = findCatalogEntry(spec);
  if (catalog) return catalog;
  if (looksLikeManifestPath(spec)) return loadManifest(spec, options.cwd);
  const store = storeDir(options);
  const record = readRecord(store, spec);
  if (record) return entryFromRecord(record);
  const known = [...catalogNames(), ...installedNames(store).filter((name) => !findCatalogEntry(name))];
  throw new UsageError(`unknown model ${JSON.stringify(spec)}; known models: ${known.join(', ')} (a path to a model manifest .json is accepted too)`);
}

/** The argument that pulls `entry`: its name, or its manifest path when it came from one. */
export function pullArgument(entry: ModelEntry): string {
  return entry.source === 'manifest' && entry.manifestPath ? entry.manifestPath : entry.name;
}

/**
 * Files of `entry` if it is usable now, else a UsageError saying how to get it
 * ("model efficientsam-s is not installed; run `samlite models pull efficientsam-s`").
 */
export function resolveEntry(entry: ModelEntry, options: StoreOptions = {}): ResolvedModel {
  const store = storeDir(options);
  const missing = missingFiles(store, entry);
  if (Object.keys(missing).length > 0) {
    if (entry.builtin) {
      const role = entryRoles(entry).find((r) => missing[r])!;
      throw new UsageError(`built-in model ${entry.name} is missing its ${role} file (${missing[role]}); the samlite installation is incomplete`);
    }
    const local = entryFiles(entry).find(([role, file]) => missing[role] && file.kind === 'local')?.[0];
    if (local) throw new UsageError(`model ${entry.name}: ${local} file ${missing[local]}`);
    const argument = pullArgument(entry);
    const shown = /\s/.test(argument) ? JSON.stringify(argument) : argument;
    const from = entry.source === 'manifest' ? ` (manifest ${entry.manifestPath})` : '';
    throw new UsageError(`model ${entry.name}${from} is not installed; run \`samlite models pull ${shown}\``);
  }
  return {
    name: entry.name,
    family: entry.family,
    builtin: entry.builtin,
    description: entry.description,
    license: entry.license,
    source: entry.source,
    manifestPath: entry.manifestPath,
    imgsz: entry.imgsz,
    files: filePaths(store, entry),
  };
}

/** Whether `entry` can be used without pulling anything. */
export function isInstalled(entry: ModelEntry, options: StoreOptions = {}): boolean {
  return Object.keys(missingFiles(storeDir(options), entry)).length === 0;
}

/** Why the default rule chose a model. */
export type ModelChoiceReason = 'option' | 'env' | 'config' | 'installed' | 'builtin';

/** The outcome of the default-model rule. */
export interface ModelChoice {
  readonly model: ResolvedModel;
  readonly reason: ModelChoiceReason;
  /** True when nothing was chosen or installed and the built-in segmenter stands in. */
  readonly fellBackToBuiltin: boolean;
  /** A line to show the user on stderr when {@link fellBackToBuiltin}; else undefined. */
  readonly notice?: string;
}

function withContext<T>(context: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${err.message} (${context})`, { cause: err });
    throw err;
  }
}

/**
 * Apply the default-model rule. `model` is the explicit choice (the --model flag); pass
 * undefined to fall through to SAMLITE_MODEL, the configured default, the first installed
 * catalog model, and finally the built-in segmenter.
 */
export function chooseModel(model: string | undefined, options: ResolveOptions = {}): ModelChoice {
  if (model !== undefined && model !== '') {
    return { model: resolveEntry(lookupModel(model, options), options), reason: 'option', fellBackToBuiltin: false };
  }
  const env = options.env ?? process.env;
  const fromEnv = env.SAMLITE_MODEL;
  if (fromEnv) {
    return withContext('chosen by SAMLITE_MODEL', () => ({
      model: resolveEntry(lookupModel(fromEnv, options), options),
      reason: 'env' as const,
      fellBackToBuiltin: false,
    }));
  }
  const configured = readConfig(options).defaultModel;
  if (configured) {
    return withContext('the default set with `samlite models default`; clear it with `samlite models default --unset`', () => ({
      model: resolveEntry(lookupModel(configured, options), options),
      reason: 'config' as const,
      fellBackToBuiltin: false,
    }));
  }
  for (const name of DEFAULT_PREFERENCE) {
    const entry = findCatalogEntry(name);
    if (entry && isInstalled(entry, options)) return { model: resolveEntry(entry, options), reason: 'installed', fellBackToBuiltin: false };
  }
  return {
    model: resolveEntry(findCatalogEntry(BUILTIN_MODEL)!, options),
    reason: 'builtin',
    fellBackToBuiltin: true,
    notice: BUILTIN_FALLBACK_NOTICE,
  };
}

/**
 * The files of a model, ready to load. With a name or manifest path, that model (an error
 * if it is not installed); with no argument, the default-model rule (see {@link chooseModel}
 * when the caller needs to know whether it fell back to the built-in model).
 */
export async function resolveModel(spec?: string, options: ResolveOptions = {}): Promise<ResolvedModel> {
  return chooseModel(spec, options).model;
}

/** Same as {@link chooseModel}, as a promise, for callers that prefer one async entry point. */
export async function resolveDefaultModel(options: ResolveOptions & { model?: string } = {}): Promise<ModelChoice> {
  return chooseModel(options.model, options);
}

/** The default recorded with `samlite models default`, or undefined. */
export function getDefaultModel(options: StoreOptions = {}): string | undefined {
  return readConfig(options).defaultModel;
}

/**
 * Record `spec` as the default model. It must name a known model or a valid manifest
 * (stored as an absolute path so it works from any folder); it need not be installed yet.
 * Returns the entry and whether it is installed, so the caller can advise a pull.
 */
export async function setDefaultModel(spec: string, options: ResolveOptions = {}): Promise<{ entry: ModelEntry; stored: string; installed: boolean }> {
  const entry = lookupModel(spec, options);
  const stored = entry.source === 'manifest' && entry.manifestPath && !findCatalogEntry(spec) && looksLikeManifestPath(spec) ? entry.manifestPath : entry.name;
  await writeConfig({ ...readConfig(options), defaultModel: stored }, options);
  return { entry, stored, installed: isInstalled(entry, options) };
}

/** Forget the default set with {@link setDefaultModel}; returns the value that was cleared. */
export async function unsetDefaultModel(options: StoreOptions = {}): Promise<string | undefined> {
  const config = readConfig(options);
  const previous = config.defaultModel;
  if (previous !== undefined) {
    const { defaultModel: _cleared, ...rest } = config;
    await writeConfig(rest, options);
  }
  return previous;
}
