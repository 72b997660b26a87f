/**
 * The model store's operations: pull, verify, remove, list and describe models. Each takes
 * {@link StoreOptions} (where the store is) and works on one model folder at a time, under
 * that folder's lock when it writes.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DownloadError, InputError, InterruptedError, UsageError } from '../util/errors.js';
import { describeOnnxFile, type OnnxSignature } from '../inference/signature.js';
import { copyVerified, downloadVerified, sha256File, type DownloadEvent, type RetryOptions } from './download.js';
import { acquireLock, lockHolder, LockTimeoutError } from './lock.js';
import { mirrorFromOptions, mirrorLocation, type Mirror } from './mirror.js';
import { modelDir, storeDir } from './paths.js';
import { filePaths, installedNames, readRecord, writeRecord } from './records.js';
import { loadRegistry } from './registry.js';
import { chooseModel, getDefaultModel, isInstalled, lookupModel, type ResolveOptions } from './resolve.js';
import { entryFiles, type FilesByRole, type ModelEntry, type ModelFile, type ModelRole, type ModelSource } from './types.js';

/** Progress of a pull: the download engine's events plus store-level ones. */
export type PullEvent =
  | DownloadEvent
  /** A file already in the store was re-hashed and kept. */
  | { type: 'verified'; label: string; size: number }
  /** Another process holds the model's lock; this pull waits for it. */
  | { type: 'waiting'; model: string; pid?: number }
  /** The catalog's one-line notice for this model (its licence, say), before anything is fetched. */
  | { type: 'notice'; model: string; message: string };

/** Options for {@link pullModel}. */
export interface PullOptions extends ResolveOptions, RetryOptions {
  /** Mirror base URL or folder; overrides SAMLITE_MIRROR. */
  mirror?: string;
  onEvent?: (event: PullEvent) => void;
  /** Stop waiting for another process's lock after this long (default: wait while it lives). */
  lockTimeoutMs?: number;
}

/** What a pull did. */
export interface PullResult {
  readonly name: string;
  /**
   * `installed`: files were fetched; `already-installed`: everything was in place and
   * re-verified; `builtin`: ships with samlite; `local`: a manifest with only local files.
   */
  readonly status: 'installed' | 'already-installed' | 'builtin' | 'local';
  readonly downloadedBytes: number;
  readonly files: FilesByRole<string>;
}

const LOCK_FILE = '.lock';

function remoteRoles(entry: ModelEntry): ModelRole[] {
  return entryFiles(entry).flatMap(([role, file]) => (file.kind === 'remote' ? [role] : []));
}

/** Hint appended to "cannot reach" errors: the way out when the network is unreachable. */
function unreachableHint(mirror: Mirror | undefined): string {
  return mirror
    ? 'check that the mirror is reachable'
    : 'the network looks unreachable; pull from a mirror with --mirror <url|dir> (or SAMLITE_MIRROR)';
}

/**
 * Install a catalog model or a manifest's url files into the store, verified. Files already
 * present are re-hashed and kept when they match; the rest are downloaded (or copied from a
 * mirror). The model counts as installed only once all of them are in place.
 */
export async function pullModel(spec: string, options: PullOptions = {}): Promise<PullResult> {
  const entry = lookupModel(spec, options);
  const store = storeDir(options);
  const files = filePaths(store, entry);
  if (entry.builtin) return { name: entry.name, status: 'builtin', downloadedBytes: 0, files };
  const roles = remoteRoles(entry);
  if (roles.length === 0) return { name: entry.name, status: 'local', downloadedBytes: 0, files };
  if (entry.notice) options.onEvent?.({ type: 'notice', model: entry.name, message: entry.notice });

  const env = options.env ?? process.env;
  const mirror = mirrorFromOptions(options.mirror, env, options.cwd);
  const dir = modelDir(store, entry.name);
  await mkdir(dir, { recursive: true });
  try {
    return await pullLocked({ entry, store, dir, files, roles, mirror }, options);
  } catch (err) {
    // A pull that got nothing leaves no empty folder behind (parked partials keep it).
    await rmdir(dir).catch(() => undefined);
    throw err;
  }
}

/** What {@link pullModel} worked out before taking the lock. */
interface PullPlan {
  readonly entry: ModelEntry;
  readonly store: string;
  /** The model's folder in the store, where the lock is. */
  readonly dir: string;
  /** Where each file goes (filePaths). */
  readonly files: FilesByRole<string>;
  /** The roles to fetch: the remote ones. */
  readonly roles: readonly ModelRole[];
  readonly mirror: Mirror | undefined;
}

/** The part of {@link pullModel} that runs under the model folder's lock. */
async function pullLocked({ entry, store, dir, files, roles, mirror }: PullPlan, options: PullOptions): Promise<PullResult> {
  let release;
  try {
    release = await acquireLock(join(dir, LOCK_FILE), {
      timeoutMs: options.lockTimeoutMs,
      onWait: (pid) => options.onEvent?.({ type: 'waiting', model: entry.name, pid }),
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof LockTimeoutError) {
      throw new UsageError(`model ${entry.name} is being pulled by another samlite process${err.holderPid ? ` (pid ${err.holderPid})` : ''}; try again when it is done`);
    }
    throw err;
  }
  try {
    const recordBefore = readRecord(store, entry.name);
    let downloadedBytes = 0;
    let allPresent = recordBefore !== undefined;
    for (const role of roles) {
      const file = entry.files[role] as Extract<ModelFile, { kind: 'remote' }>;
      const dest = files[role]!;
      const label = `${entry.name} ${role}`;
      if (existsSync(dest)) {
        const present = statSync(dest).size;
        if ((file.size === undefined || present === file.size) && (await sha256File(dest)) === file.sha256) {
          options.onEvent?.({ type: 'verified', label, size: present });
          if (recordBefore?.files[role]?.kind !== 'remote' || recordBefore.files[role].sha256 !== file.sha256) allPresent = false;
          continue;
        }
        // Changed on disk, or an older version of the file: replace it.
        await rm(dest, { force: true });
      }
      allPresent = false;
      try {
        if (mirror?.kind === 'dir') {
          await copyVerified(mirrorLocation(mirror, file.url), { size: file.size, sha256: file.sha256, dest, label }, { onEvent: options.onEvent, signal: options.signal });
        } else {
          const url = mirror ? mirrorLocation(mirror, file.url) : file.url;
          await downloadVerified({ url, size: file.size, sha256: file.sha256, dest, label }, { ...options, unreachableHint: unreachableHint(mirror) });
        }
      } catch (err) {
        if (err instanceof DownloadError) throw new DownloadError(`${label}: ${err.message}`, { cause: err });
        throw err;
      }
      downloadedBytes += statSync(dest).size;
    }
    await writeRecord(store, entry);
    return { name: entry.name, status: allPresent ? 'already-installed' : 'installed', downloadedBytes, files };
  } finally {
    await release();
  }
}

/** The outcome of pulling one of several models. */
export type PullOutcome = { readonly spec: string; readonly ok: true; readonly result: PullResult } | { readonly spec: string; readonly ok: false; readonly error: unknown };

/**
 * Pull each of `specs` in turn; a failure does not stop the others, an interrupt
 * (`options.signal`) does: the models not reached get no outcome.
 */
export async function pullModels(specs: readonly string[], options: PullOptions = {}): Promise<PullOutcome[]> {
  const outcomes: PullOutcome[] = [];
  for (const spec of specs) {
    try {
      outcomes.push({ spec, ok: true, result: await pullModel(spec, options) });
    } catch (error) {
      outcomes.push({ spec, ok: false, error });
      if (error instanceof InterruptedError) break;
    }
  }
  return outcomes;
}

/** One file's verification. */
export interface FileVerification {
  readonly role: ModelRole;
  readonly path: string;
  readonly ok: boolean;
  /** Expected sha256; absent for local files that declare none. */
  readonly expected?: string;
  readonly actual?: string;
  /** Why the file is not ok, or a note such as "no sha256 to check against". */
  readonly note?: string;
}

/** One model's verification. */
export interface ModelVerification {
  readonly name: string;
  readonly ok: boolean;
  readonly files: readonly FileVerification[];
}

async function verifyFile(role: ModelRole, path: string, file: ModelFile): Promise<FileVerification> {
  if (!existsSync(path)) return { role, path, ok: false, expected: file.sha256, note: 'file is missing' };
  if (!file.sha256) return { role, path, ok: true, note: 'no sha256 to check against' };
  const actual = await sha256File(path);
  const size = (await stat(path)).size;
  if (actual === file.sha256) return { role, path, ok: true, expected: file.sha256, actual };
  const sizeNote = file.size !== undefined && size !== file.size ? ` (${size} bytes, expected ${file.size})` : '';
  return { role, path, ok: false, expected: file.sha256, actual, note: `sha256 mismatch${sizeNote}` };
}

/**
 * Re-hash the files of one model and compare them with the catalog (or manifest). Built-in
 * models are checked for presence (and hash when the catalog gives one). A model that is
 * not installed is an InputError.
 */
export async function verifyModel(spec: string, options: ResolveOptions = {}): Promise<ModelVerification> {
  const entry = lookupModel(spec, options);
  const store = storeDir(options);
  if (!entry.builtin && remoteRoles(entry).length > 0 && !readRecord(store, entry.name)) {
    throw new InputError(`model ${entry.name} is not installed; nothing to verify`);
  }
  const paths = filePaths(store, entry);
  const files: FileVerification[] = [];
  for (const [role, file] of entryFiles(entry)) files.push(await verifyFile(role, paths[role]!, file));
  return { name: entry.name, ok: files.every((file) => file.ok), files };
}

/** Verify every installed model (built-ins excluded: nothing was downloaded). */
export async function verifyInstalledModels(options: ResolveOptions = {}): Promise<ModelVerification[]> {
  const results: ModelVerification[] = [];
  for (const name of installedNames(storeDir(options))) results.push(await verifyModel(name, options));
  return results;
}

/** What {@link removeModel} removed. */
export interface RemoveResult {
  readonly name: string;
  readonly dir: string;
  readonly bytes: number;
  /** True when the removed model was the default set with `samlite models default`. */
  readonly wasDefault: boolean;
  /** False when only an unfinished pull (no install record) was cleared away. */
  readonly wasInstalled: boolean;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    total += await stat(join(dir, name)).then(
      (s) => (s.isFile() ? s.size : 0),
      () => 0,
    );
  }
  return total;
}

/**
 * Delete a model's folder from the store, partial downloads included; null when the model
 * has nothing in the store. Built-in models cannot be removed (UsageError); a model being
 * pulled by a live process is a UsageError.
 */
export async function removeModel(spec: string, options: ResolveOptions = {}): Promise<RemoveResult | null> {
  const entry = lookupModel(spec, options);
  if (entry.builtin) throw new UsageError(`${entry.name} is built in and cannot be removed`);
  const store = storeDir(options);
  const dir = modelDir(store, entry.name);
  if (!existsSync(dir)) return null;
  const holder = await lockHolder(join(dir, LOCK_FILE));
  if (holder !== undefined) throw new UsageError(`model ${entry.name} is being pulled by another samlite process (pid ${holder}); try again when it is done`);
  const wasInstalled = readRecord(store, entry.name) !== undefined;
  const bytes = await folderBytes(dir);
  const configured = getDefaultModel(options);
  const wasDefault = configured !== undefined && (configured === entry.name || configured === entry.manifestPath);
  await rm(dir, { recursive: true, force: true });
  return { name: entry.name, dir, bytes, wasDefault, wasInstalled };
}

/** One row of `samlite models list`. */
export interface ModelListing {
  readonly name: string;
  readonly family: ModelEntry['family'];
  readonly description: string;
  readonly license?: string;
  readonly builtin: boolean;
  readonly source: ModelSource;
  readonly manifestPath?: string;
  /** Total bytes of the model's files; null when unknown (a built-in file not yet present). */
  readonly size: number | null;
  /** Usable now without a download (always true for a built-in with its files present). */
  readonly installed: boolean;
  /** The model the default-model rule picks when no model is named. */
  readonly default: boolean;
}

function entrySize(entry: ModelEntry): number | null {
  let total = 0;
  for (const [, file] of entryFiles(entry)) {
    if (file.size !== undefined) total += file.size;
    else if (file.kind === 'local' && existsSync(file.path)) total += statSync(file.path).size;
    else return null;
  }
  return total;
}

/** Every catalog model, then every manifest model installed in the store. */
export function listModels(options: ResolveOptions = {}): ModelListing[] {
  const store = storeDir(options);
  let defaultName: string | undefined;
  try {
    defaultName = chooseModel(undefined, options).model.name;
  } catch {
    defaultName = undefined; // a broken default is reported when it is used, not here
  }
  const entries: ModelEntry[] = [...loadRegistry()];
  for (const name of installedNames(store)) {
    if (!entries.some((entry) => entry.name === name)) entries.push(lookupModel(name, options));
  }
  return entries.map((entry) => ({
    name: entry.name,
    family: entry.family,
    description: entry.description,
    license: entry.license,
    builtin: entry.builtin,
    source: entry.source,
    manifestPath: entry.manifestPath,
    size: entrySize(entry),
    installed: isInstalled(entry, options),
    default: entry.name === defaultName,
  }));
}

/** One file in {@link ModelInfo}. */
export interface ModelFileInfo {
  readonly role: ModelRole;
  /** Where the file is (or will be, once pulled). */
  readonly path: string;
  readonly url?: string;
  readonly size?: number;
  readonly sha256?: string;
  /** Inputs and outputs, read with onnxruntime when the file is present. */
  readonly signature?: OnnxSignature;
  /** Why the signature could not be read. */
  readonly signatureError?: string;
}

/** Everything `samlite models info` shows. */
export interface ModelInfo extends Omit<ModelEntry, 'files'> {
  readonly installed: boolean;
  readonly files: readonly ModelFileInfo[];
}

/**
 * The catalog entry (or manifest) of a model and, when it is installed, the input and output
 * names, dtypes and shapes of its ONNX files.
 */
export async function modelInfo(spec: string, options: ResolveOptions & { signatures?: boolean } = {}): Promise<ModelInfo> {
  const entry = lookupModel(spec, options);
  const installed = isInstalled(entry, options);
  const paths = filePaths(storeDir(options), entry);
  const files: ModelFileInfo[] = [];
  for (const [role, file] of entryFiles(entry)) {
    const base = { role, path: paths[role]!, url: file.kind === 'remote' ? file.url : undefined, size: file.size, sha256: file.sha256 };
    if (!installed || options.signatures === false) {
      files.push(base);
      continue;
    }
    try {
      files.push({ ...base, signature: await describeOnnxFile(paths[role]!) });
    } catch (err) {
      files.push({ ...base, signatureError: err instanceof Error ? err.message : String(err) });
    }
  }
  const { files: _entryFiles, ...described } = entry;
  return { ...described, installed, files };
}
