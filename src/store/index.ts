/**
 * The model store's public API: catalog, manifests, store location, downloads, install,
 * verify, remove, and model resolution with the default-model rule.
 */
export type { ModelRole, RemoteFile, LocalFile, ModelFile, ModelSource, ModelEntry, ResolvedModel, StoreOptions } from './types.js';
export { MODEL_ROLES } from './types.js';
export { storeDir, packageModelsDir, modelDir } from './paths.js';
export { loadRegistry, parseRegistry, findCatalogEntry, catalogNames, registryPath } from './registry.js';
export { loadManifest, looksLikeManifestPath } from './manifest.js';
export { parseMirror, mirrorLocation, type Mirror } from './mirror.js';
export { downloadVerified, copyVerified, sha256File, type DownloadTarget, type DownloadOptions, type DownloadEvent, type RetryOptions } from './download.js';
export {
  lookupModel,
  resolveModel,
  resolveEntry,
  resolveDefaultModel,
  chooseModel,
  isInstalled,
  getDefaultModel,
  setDefaultModel,
  unsetDefaultModel,
  DEFAULT_PREFERENCE,
  BUILTIN_MODEL,
  BUILTIN_FALLBACK_NOTICE,
  type ResolveOptions,
  type ModelChoice,
  type ModelChoiceReason,
} from './resolve.js';
export {
  pullModel,
  pullModels,
  verifyModel,
  verifyInstalledModels,
  removeModel,
  listModels,
  modelInfo,
  type PullOptions,
  type PullEvent,
  type PullResult,
  type PullOutcome,
  type FileVerification,
  type ModelVerification,
  type RemoveResult,
  type ModelListing,
  type ModelInfo,
  type ModelFileInfo,
} from './store.js';
export { createProgressReporter, formatBytes, type ProgressReporter, type ProgressReporterOptions } from './progress.js';
