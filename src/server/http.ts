/**
 * The HTTP plumbing every route shares: bodies read with a size limit, JSON answers, and
 * errors as a status plus the CLI's one-line message.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SamliteError, oneLine } from '../util/errors.js';

/** An answer other than 200: its status and the one-line message the JSON error carries. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers (Retry-After on 429, WWW-Authenticate on 401). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * The request's body, refused with 413 once it passes `limit` bytes (the rest is not
 * read into memory) and with 400 when the client stops sending halfway.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(declared, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      // Stop reading; the connection is closed after the answer.
      req.pause();
      throw tooLarge(size, limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(size: number, limit: number): HttpError {
  return new HttpError(413, `request body of ${size} bytes or more is over the limit of ${limit} bytes (--max-body)`);
}

/** The body parsed as JSON; anything else is a 400 saying why. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (type && !/^application\/json\b/i.test(type)) throw new HttpError(415, `expected an application/json body, got ${type}`);
  const body = await readBody(req, limit);
  if (body.length === 0) throw new HttpError(400, 'request body is empty: expected JSON');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON (${oneLine(err)})`);
  }
}

/** Answer with `value` as JSON. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/** Answer with bytes of `type`. */
export function sendBytes(res: ServerResponse, type: string, body: Uint8Array, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(200, { 'content-type': type, 'content-length': body.length, ...headers });
  res.end(body);
}

/**
 * The status and message a thrown value answers with: an HttpError as it is, a samlite
 * error (bad input, unknown model) as 400, anything else as 500 with its one line.
 */
export function errorAnswer(err: unknown): { status: number; message: string; headers: Readonly<Record<string, string>> } {
  if (err instanceof HttpError) return { status: err.status, message: err.message, headers: err.headers };
  if (err instanceof SamliteError) return { status: 400, message: oneLine(err), headers: {} };
  return { status: 500, message: `internal error: ${oneLine(err)}`, headers: {} };
}
