/**
 * Shapes shared by the model store: what a model is made of, before and after resolution.
 * A catalog entry and a user's manifest both normalise to {@link ModelEntry}.
 */
import type { FamilyName } from '../families/types.js';

/**
 * What a file is to its model: a prompt family's image encoder and mask decoder, or the
 * single network of a one-file family (FastSAM).
 */
export type ModelRole = 'encoder' | 'decoder' | 'model';

/** Every role, in the order files are pulled and printed. */
export const MODEL_ROLES: readonly ModelRole[] = ['encoder', 'decoder', 'model'];

/**
 * The files each family's models are made of, in pull and print order. Its keys are every
 * family, in the order messages list them (FAMILY_NAMES).
 */
export const FAMILY_ROLES: Readonly<Record<FamilyName, readonly ModelRole[]>> = {
  sam: ['encoder', 'decoder'],
  efficientsam: ['encoder', 'decoder'],
  sam2: ['encoder', 'decoder'],
  fastsam: ['model'],
};

/** Every family, in the order messages list them. */
export const FAMILY_NAMES = Object.keys(FAMILY_ROLES) as [FamilyName, ...FamilyName[]];

/**
 * The families whose catalog entries and manifests may state an input side (`imgsz`): a
 * FastSAM export can leave its input size symbolic; the prompt families' encoders fix theirs.
 */
export const IMGSZ_FAMILIES: readonly FamilyName[] = ['fastsam'];

/** The roles of `entry`'s files (its family's), in pull and print order. */
export function entryRoles(entry: { readonly family: FamilyName }): readonly ModelRole[] {
  return FAMILY_ROLES[entry.family];
}

/** A model's files by role; exactly its family's roles are present. */
export type FilesByRole<T> = Readonly<Partial<Record<ModelRole, T>>>;

/**
 * `[role, file]` for each of the family's roles, in pull and print order. The schemas of
 * the catalog, manifests and install records make sure each is there (checkFamilyShape);
 * one that is not is a samlite bug, thrown here rather than as a TypeError further on.
 */
export function entryFiles<T>(entry: { readonly family: FamilyName; readonly files: FilesByRole<T> }): [ModelRole, T][] {
  return entryRoles(entry).map((role) => {
    const file = entry.files[role];
    if (file === undefined) throw new Error(`a ${entry.family} model without its ${role} file`);
    return [role, file];
  });
}

/** A file fetched over HTTP(S) into the store; its size and hash are known in advance. */
export interface RemoteFile {
  readonly kind: 'remote';
  readonly url: string;
  /**
   * Byte size. Unknown (undefined) only for a catalog file whose publisher states none
   * (SAM 2.1's files, pinned by hash alone): the server's Content-Length is taken, and the
   * sha256 decides.
   */
  readonly size?: number;
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
  /** One line `pull` shows before fetching (catalog entries only; e.g. a licence unlike samlite's). */
  readonly notice?: string;
  /** Ships inside the package: nothing to download. */
  readonly builtin: boolean;
  readonly source: ModelSource;
  /** Absolute path of the manifest, for manifest entries. */
  readonly manifestPath?: string;
  /**
   * Side of the square input a one-file FastSAM export runs at, when the file leaves it
   * symbolic (a `dynamic=True` export); a fixed size in the file wins.
   */
  readonly imgsz?: number;
  readonly files: FilesByRole<ModelFile>;
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
  /** See {@link ModelEntry.imgsz}. */
  readonly imgsz?: number;
  /** Absolute paths of the ONNX files, by role. */
  readonly files: FilesByRole<string>;
}

/** Where the store lives and which environment to read; every store function takes these. */
export interface StoreOptions {
  /** Store folder; overrides SAMLITE_HOME and the platform cache folder. */
  readonly home?: string;
  /** Environment to read SAMLITE_HOME, SAMLITE_MODEL and SAMLITE_MIRROR from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}
