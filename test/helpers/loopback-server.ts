/**
 * A test HTTP server on 127.0.0.1 that serves byte arrays and injects faults: resets,
 * stalls, wrong bytes, error statuses, redirects, servers without Range support. Each route
 * handler is told how many times its path has been requested, so a test can script
 * "fail the first time, then succeed".
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

/** Answers one request; `count` is 1 for the first request to this path, 2 for the next… */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, count: number) => void;

/** What the server saw. */
export interface RecordedRequest {
  readonly path: string;
  readonly range?: string;
  readonly ifRange?: string;
}

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Full URL of a path on this server. */
  url(path: string): string;
  /** Every request so far, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Requests for one path. */
  requestsFor(path: string): RecordedRequest[];
  route(path: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

/** Start a server on an ephemeral loopback port. Unrouted paths answer 404. */
export async function startLoopbackServer(): Promise<LoopbackServer> {
  const routes = new Map<string, RouteHandler>();
  const counts = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ path, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined });
    const count = (counts.get(path) ?? 0) + 1;
    counts.set(path, count);
    const handler = routes.get(path);
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    handler(req, res, count);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: (path) => `${origin}${path.startsWith('/') ? path : `/${path}`}`,
    requests,
    requestsFor: (path) => requests.filter((request) => request.path === path),
    route: (path, handler) => void routes.set(path, handler),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback origin where every connection is refused, while it is held. */
export interface RefusingOrigin {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Full URL of a path on this origin. */
  url(path: string): string;
  /** Give the port back. */
  close(): Promise<void>;
}

/**
 * Hold a loopback port that refuses every connection (ECONNREFUSED) until `close`. The port
 * is bound by a socket that never listens (it is connected, from that port, to a throwaway
 * server), so nothing answers there; and as it is taken by an explicit bind, the kernel
 * gives it to no other listen(0) or outgoing connection meanwhile, which a port whose
 * server was just closed does not promise: another test's server may get it.
 */
export async function holdRefusingOrigin(): Promise<RefusingOrigin> {
  const accepted = new Set<Socket>();
  const server = net.createServer((socket) => {
    accepted.add(socket);
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // localPort 0 with a localAddress: bound (port chosen by the kernel) before connecting.
  const holder = net.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, localAddress: '127.0.0.1', localPort: 0 });
  await once(holder, 'connect');
  holder.on('error', () => undefined);
  const origin = `http://127.0.0.1:${holder.localPort!}`;
  return {
    origin,
    url: (path) => `${origin}${path.startsWith('/') ? path : `/${path}`}`,
    close: async () => {
      holder.destroy();
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Hex sha256 of a buffer. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Answer like a well-behaved static file server: 200 with the whole file, or 206 for a
 * satisfiable `Range: bytes=N-` (416 otherwise). With `ranges: false` the Range header is
 * ignored, as some servers do.
 */
export function serveBytes(req: IncomingMessage, res: ServerResponse, bytes: Uint8Array, options: { ranges?: boolean } = {}): void {
  const ranges = options.ranges ?? true;
  const etag = `"${sha256(bytes).slice(0, 16)}"`;
  const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (ranges && match) {
    const start = Number(match[1]);
    if (start >= bytes.length) {
      res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
      return;
    }
    res.writeHead(206, {
      'content-length': bytes.length - start,
      'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}`,
      'accept-ranges': 'bytes',
      etag,
    });
    res.end(Buffer.from(bytes.subarray(start)));
    return;
  }
  res.writeHead(200, { 'content-length': bytes.length, ...(ranges ? { 'accept-ranges': 'bytes' } : {}), etag });
  res.end(Buffer.from(bytes));
}

/**
 * Announce the whole file, send its first `count` bytes, then reset the connection once
 * `clientHasBytes` settles. A reset makes the client's kernel drop what the client has not
 * read yet, so the test settles it on the client's first 'progress' event (see
 * {@link onFirstProgress}): the client then holds bytes to resume from, however busy the
 * machine.
 */
export function resetAfter(res: ServerResponse, bytes: Uint8Array, count: number, clientHasBytes: Promise<unknown>): void {
  res.writeHead(200, { 'content-length': bytes.length, 'accept-ranges': 'bytes' });
  res.write(Buffer.from(bytes.subarray(0, count)));
  void clientHasBytes.then(() => res.socket?.resetAndDestroy());
}

/**
 * A promise settled by the first 'progress' event given to the returned `onEvent`, which
 * also passes every event on to `next`.
 */
export function onFirstProgress<E extends { type: string }>(next?: (event: E) => void): { onEvent: (event: E) => void; reached: Promise<void> } {
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  return {
    reached,
    onEvent: (event) => {
      if (event.type === 'progress') reach();
      next?.(event);
    },
  };
}

/** Announce the whole file, send its first `count` bytes, then go silent (the socket stays open). */
export function stallAfter(res: ServerResponse, bytes: Uint8Array, count: number): void {
  res.writeHead(200, { 'content-length': bytes.length, 'accept-ranges': 'bytes' });
  res.write(Buffer.from(bytes.subarray(0, count)));
}

/** Redirect to `location` (absolute or relative). */
export function redirect(res: ServerResponse, location: string, status = 302): void {
  res.writeHead(status, { location }).end();
}
