/**
 * Where things live: the package's own models/ folder (catalog and built-in files) and the
 * user's model store.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import envPaths from 'env-paths';
import type { ModelRole, StoreOptions } from './types.js';

/**
 * The package's models/ folder. This module sits at src/store/ or dist/store/, two levels
 * below the package root in both the checkout and an installed tarball, so one relative
 * step serves both.
 */
export function packageModelsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');
}

/**
 * The model store: `home` when given, else $SAMLITE_HOME, else the platform cache folder
 * (~/.cache/samlite on Linux, honouring XDG_CACHE_HOME). Models are caches of published
 * files, so losing them costs only a download.
 */
export function storeDir(options: StoreOptions = {}): string {
  if (options.home) return resolve(options.home);
  const env = options.env ?? process.env;
  if (env.SAMLITE_HOME) return resolve(env.SAMLITE_HOME);
  return envPaths('samlite', { suffix: '' }).cache;
}

/** Folder holding one installed model's files, its install record and its lock. */
export function modelDir(store: string, name: string): string {
  return join(store, 'models', name);
}

/** Parent of every model folder. */
export function modelsRoot(store: string): string {
  return join(store, 'models');
}

/** Default folder of the on-disk embedding cache (`samlite segment --cache-dir`). */
export function embeddingCacheDir(store: string): string {
  return join(store, 'embeddings');
}

/** The store's settings file (the default model). */
export function configPath(store: string): string {
  return join(store, 'config.json');
}

/** The install record that marks a model folder as complete. */
export function recordPath(store: string, name: string): string {
  return join(modelDir(store, name), 'installed.json');
}

/**
 * Final name of a downloaded file inside its model folder. Named by role rather than by the
 * upstream name so two roles can never collide; `.ort` is kept because onnxruntime picks the
 * format from the extension.
 */
export function storedFileName(role: ModelRole, url: string): string {
  return `${role}${/\.ort$/i.test(new URL(url).pathname) ? '.ort' : '.onnx'}`;
}

/** The last path segment of a URL, decoded: the name a mirror is searched for. */
export function urlFileName(url: string): string {
  const segments = new URL(url).pathname.split('/').filter(Boolean);
  const last = segments[segments.length - 1];
  if (!last) throw new Error(`URL ${url} has no file name`);
  return decodeURIComponent(last);
}
