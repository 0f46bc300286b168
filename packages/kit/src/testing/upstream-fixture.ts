import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type KitError, problemContentType, toProblem } from '../errors/index.ts';
import { noRetryHeader, shouldMarkNoRetry } from '../upstream/no-retry.ts';

/**
 * A real HTTP server on 127.0.0.1 for the client's tests, counting what a test asserts on:
 * requests received, requests whose caller went away before the answer, and open sockets.
 */
export interface Upstream {
  readonly url: string;
  readonly server: Server;
  /** Requests received. */
  hits: number;
  /** Requests whose response closed before it finished: the client aborted them. */
  aborted: number;
  /** Requests answered in full. */
  finished: number;
  /** Sockets open now, as the server sees them. */
  readonly openSockets: number;
  /** Every request's headers, in order of arrival. */
  readonly received: Array<IncomingMessage['headers']>;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, upstream: Upstream) => void | Promise<void>;

export async function startUpstream(handler: UpstreamHandler): Promise<Upstream> {
  const sockets = new Set<Socket>();
  const server = createServer();
  const upstream: Upstream = {
    url: '',
    server,
    hits: 0,
    aborted: 0,
    finished: 0,
    get openSockets() {
      return sockets.size;
    },
    received: [],
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req, res) => {
    upstream.hits++;
    upstream.received.push(req.headers);
    res.once('close', () => {
      if (res.writableFinished) upstream.finished++;
      else upstream.aborted++;
    });
    Promise.resolve(handler(req, res, upstream)).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(upstream, { url: `http://127.0.0.1:${port}` });
}

/** A port nothing listens on: connecting to it is refused. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Answers JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Answers a KitError the way a Baton server's error handler does, including the no-retry mark:
 * the test servers that stand for middle layers use it.
 */
export function sendKitError(res: ServerResponse, error: KitError): void {
  const problem = toProblem(error);
  const headers: Record<string, string> = { 'content-type': problemContentType };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.ceil(error.retryAfterSeconds));
  if (shouldMarkNoRetry(error)) headers[noRetryHeader] = '1';
  const text = JSON.stringify(problem);
  res.writeHead(problem.status, { ...headers, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Resolves after `ms`, or at once when the response closes (the caller went away). */
export function delayUnlessClosed(res: ServerResponse, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    res.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Polls until `condition` holds or `withinMs` passes; returns whether it held. */
export async function eventually(condition: () => boolean, withinMs = 2_000): Promise<boolean> {
  const until = performance.now() + withinMs;
  while (!condition()) {
    if (performance.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
