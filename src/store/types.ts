/**
 * Shapes shared by the model store: what a model is made of, before and after resolution.
 * A catalog entry and a user's manifest both normalise to {@link ModelEntry}.
 */
import type { FamilyName } from '../families/types.js';

/** The two files every model has. */
export type ModelRole = 'encoder' | 'decoder';

/** Roles in the order they are pulled and printed. */
export const MODEL_ROLES: readonly ModelRole[] = ['encoder', 'decoder'];

/** A file fetched over HTTP(S) into the store; its size and hash are known in advance. */
export interface RemoteFile {
  readonly kind: 'remote';
  readonly url: string;
  readonly size: number;
  /** Lower-case hex. */
  readonly sha256: string;
}

/** A file already on disk (built-in models, manifest `path` files). */
export interface LocalFile {
  readonly kind: 'local';
  /** Absolute path. */
  readonly path: string;
  readonly size?: number;
  readonly sha256?: string;
}

export type ModelFile = RemoteFile | LocalFile;

/** Where an entry came from. */
export type ModelSource = 'catalog' | 'manifest';

/** One model as described by the catalog or by a manifest, not yet checked against the store. */
export interface ModelEntry {
  readonly name: string;
  readonly family: FamilyName;
  readonly description: string;
  readonly license?: string;
  readonly homepage?: string;
  /** Ships inside the package: nothing to download. */
  readonly builtin: boolean;
  readonly source: ModelSource;
  /** Absolute path of the manifest, for manifest entries. */
  readonly manifestPath?: string;
  readonly files: Readonly<Record<ModelRole, ModelFile>>;
}

/** A model ready to load: every file is on disk. */
export interface ResolvedModel {
  readonly name: string;
  readonly family: FamilyName;
  readonly builtin: boolean;
  readonly description: string;
  readonly license?: string;
  readonly source: ModelSource;
  readonly manifestPath?: string;
  /** Absolute paths of the ONNX files. */
  readonly files: Readonly<Record<ModelRole, string>>;
}

/** Where the store lives and which environment to read; every store function takes these. */
export interface StoreOptions {
  /** Store folder; overrides SAMLITE_HOME and the platform cache folder. */
  readonly home?: string;
  /** Environment to read SAMLITE_HOME, SAMLITE_MODEL and SAMLITE_MIRROR from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}
