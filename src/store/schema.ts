/**
 * Schema pieces shared by the catalog and by user manifests, and the one-line rendering of
 * a validation failure.
 */
import { z } from 'zod';
import type { FamilyName } from '../families/types.js';
import { imgszProblem } from '../fastsam/settings.js';
import { FAMILY_NAMES, FAMILY_ROLES, IMGSZ_FAMILIES, MODEL_ROLES, type ModelRole } from './types.js';

/** Model names double as folder names in the store, so they are kept filesystem-safe. */
export const MODEL_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

/** Lower- or upper-case hex is accepted; entries store lower case. */
export const SHA256_RE = /^[0-9a-f]{64}$/i;

/** `"a", "b" or "c"`. */
function quotedChoice(values: readonly string[]): string {
  const quoted = values.map((v) => JSON.stringify(v));
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}` : quoted.join('');
}

export const familySchema = z.enum(FAMILY_NAMES, {
  error: (issue) =>
    issue.input === undefined
      ? `is missing (expected ${quotedChoice(FAMILY_NAMES)})`
      : `unknown family ${JSON.stringify(issue.input)} (expected ${quotedChoice(FAMILY_NAMES)})`,
});

/** A FastSAM input side (see fastsam/settings.ts for the rule). */
export const imgszSchema = z.number({ error: 'must be a number of pixels' }).superRefine((value, ctx) => {
  const problem = imgszProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const nameSchema = z.string().regex(MODEL_NAME_RE, {
  error: 'must be 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
});

export const sha256Schema = z.string().regex(SHA256_RE, {
  error: (issue) => `must be 64 hexadecimal characters, got ${JSON.stringify(issue.input)}`,
});

export const sizeSchema = z
  .number({ error: 'must be a number of bytes' })
  .int({ error: 'must be a whole number of bytes' })
  .positive({ error: 'must be a positive number of bytes' });

/** `"encoder" and "decoder"`. */
function roleList(roles: readonly string[]): string {
  return roles.map((r) => `"${r}"`).join(' and ');
}

/** Each family's roles in words, the distinct ones: `"encoder" and "decoder", or "model"`. */
export const FAMILY_ROLES_IN_WORDS = [...new Set(Object.values(FAMILY_ROLES).map(roleList))].join(', or ');

/**
 * A model's `files` object: `file` under each role, every role optional (which ones a
 * model must have is its family's, checked by {@link checkFamilyShape}). Shared by the
 * catalog, manifests and install records; each decides what unknown keys mean.
 */
export function filesOf<T extends z.ZodType>(file: T, params?: Parameters<typeof z.object>[1]) {
  const shape = Object.fromEntries(MODEL_ROLES.map((role) => [role, file.optional()])) as Record<ModelRole, z.ZodOptional<T>>;
  return z.object(shape, params);
}

/**
 * Issues for a model's `files` object whose roles are not its family's (`FAMILY_ROLES`),
 * and for `imgsz` on a family that has no use for it: shared by the catalog and manifests.
 */
export function checkFamilyShape(
  model: { readonly family: FamilyName; readonly files: object; readonly imgsz?: number },
  ctx: z.RefinementCtx,
): void {
  const wanted = FAMILY_ROLES[model.family];
  const given = Object.keys(model.files);
  for (const role of wanted) {
    if (!given.includes(role)) {
      ctx.addIssue({ code: 'custom', path: ['files', role], message: `is missing (a ${model.family} model has ${roleList(wanted)})` });
    }
  }
  for (const role of given) {
    if (!(wanted as readonly string[]).includes(role)) {
      ctx.addIssue({ code: 'custom', path: ['files', role], message: `is not a file of a ${model.family} model (it has ${roleList(wanted)})` });
    }
  }
  if (model.imgsz !== undefined && !IMGSZ_FAMILIES.includes(model.family)) {
    ctx.addIssue({ code: 'custom', path: ['imgsz'], message: `is only for ${IMGSZ_FAMILIES.join(' and ')} models` });
  }
}

/**
 * One line for the first few issues of a failed parse, each prefixed with its JSON path
 * (`files.decoder.sha256: must be ...`), so the message points at the field to fix.
 */
export function formatIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const where = issue.path.map(String).join('.');
    const message = issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'is missing' : issue.message;
    if (!where) return message;
    // "files.encoder is missing" reads better than "files.encoder: is missing".
    return /^(is|must|needs) /.test(message) ? `${where} ${message}` : `${where}: ${message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more problems)` : '';
  return parts.join('; ') + more;
}

/** True for an http: or https: URL (manifests may use plain http, e.g. a LAN mirror). */
export function isHttpUrl(value: string, httpsOnly = false): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (!httpsOnly && url.protocol === 'http:');
  } catch {
    return false;
  }
}
