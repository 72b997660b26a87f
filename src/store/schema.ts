/**
 * Schema pieces shared by the catalog and by user manifests, and the one-line rendering of
 * a validation failure.
 */
import { z } from 'zod';

/** Model names double as folder names in the store, so they are kept filesystem-safe. */
export const MODEL_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

/** Lower- or upper-case hex is accepted; entries store lower case. */
export const SHA256_RE = /^[0-9a-f]{64}$/i;

export const familySchema = z.enum(['sam', 'efficientsam'], {
  error: (issue) =>
    issue.input === undefined
      ? 'is missing (expected "sam" or "efficientsam")'
      : `unknown family ${JSON.stringify(issue.input)} (expected "sam" or "efficientsam")`,
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
