/**
 * The server's token: random by default, printed in the URL to open (as Jupyter does), then
 * kept by the page as a cookie; API clients send it as `Authorization: Bearer <token>`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http.js';

/** Name of the cookie the page keeps the token in. */
export const TOKEN_COOKIE = 'samlite_token';

/** A fresh random token: 24 bytes, URL-safe base64 (32 characters). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The token a request carries, and where: the Authorization header, the cookie, or `?token=`. */
export function requestToken(req: IncomingMessage, url: URL): { token: string; from: 'header' | 'cookie' | 'query' } | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    // A malformed header is a wrong token, not a missing one: the client meant to send one.
    return { token: match ? match[1] : '', from: 'header' };
  }
  const query = url.searchParams.get('token');
  if (query !== null) return { token: query, from: 'query' };
  const cookie = cookieValue(req.headers.cookie, TOKEN_COOKIE);
  if (cookie !== undefined) return { token: cookie, from: 'cookie' };
  return undefined;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Compare in constant time, so the answer's timing does not leak the token's prefix. */
function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Check a request against `expected` (undefined: `--no-token`, every request passes). No
 * token is a 401; a wrong one a 403. Returns where the good token came from.
 */
export function checkToken(req: IncomingMessage, url: URL, expected: string | undefined): 'header' | 'cookie' | 'query' | 'none' {
  if (expected === undefined) return 'none';
  const given = requestToken(req, url);
  if (!given) {
    throw new HttpError(401, 'this samlite server needs its token: open the URL `samlite serve` printed, or send Authorization: Bearer <token>', {
      'www-authenticate': 'Bearer realm="samlite"',
    });
  }
  if (!sameToken(given.token, expected)) throw new HttpError(403, `wrong token (from the ${given.from === 'query' ? '?token= parameter' : given.from})`);
  return given.from;
}

/** The Set-Cookie header that keeps the token for the page: this site only, not readable by scripts. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}
