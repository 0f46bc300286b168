import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';

export interface DrainOptions {
  /** Past this many bytes the rest is not worth reading: the connection is cut instead. */
  maxBytes?: number;
  /** Past this time the same: a client that trickles a huge body does not hold us. */
  timeoutMs?: number;
}

/**
 * Reads and discards what is left of a request body, until it ends or a bound passes. Bounded in
 * bytes and time, so a client cannot keep a connection busy with an endless body.
 */
export function drainRequest(raw: IncomingMessage, { maxBytes = 16 * 1024 * 1024, timeoutMs = 5_000 }: DrainOptions = {}): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let receivedBytes = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', finish);
      raw.off('close', finish);
      raw.off('error', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes > maxBytes) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    timer.unref();
    raw.on('data', onData);
    raw.once('end', finish);
    raw.once('close', finish);
    raw.once('error', finish);
    raw.resume();
  });
}

/**
 * The "lingering close" of nginx, for an error answered before its body arrived (too large,
 * rate-limited, unauthenticated): the client is still sending. The answer goes out at once, and
 * the response ends (and a `Connection: close` connection closes) only once the rest of the body
 * has been read and dropped, within `options`. Closing a socket with bytes unread sends a reset,
 * which can throw away the answer before the client reads it: Node closes a `Connection: close`
 * connection the moment its response ends, and so did the gateway's, under a client still
 * streaming an upload too large (the images e2e test's chunked 413 came back as no answer at all).
 * Draining before answering instead delays the answer, and a client that sends past the drain's
 * bound still meets the close.
 *
 * Written by hand because neither Fastify nor Node offers a lingering close.
 */
export function installBodyDrain(app: FastifyInstance, options: DrainOptions = {}): void {
  // A callback, not an async function: most answers have nothing to drain and cost no promise.
  app.addHook('onSend', function drainUnreadBody(request, reply, payload, done) {
    // A 408 is for a body that stopped arriving (receive-timeout.ts): there is nothing to wait for.
    if (reply.statusCode < 400 || reply.statusCode === 408 || request.raw.complete || request.raw.destroyed) {
      done(null, payload);
      return;
    }
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
      // Not the kit's own problem document (a stream, or nothing): drained before it is sent.
      void drainRequest(request.raw, options).then(() => done(null, payload));
      return;
    }
    // Its length is said, so the client has the whole answer as soon as these bytes arrive,
    // though the response only ends once the body is drained.
    void reply.header('content-length', Buffer.byteLength(payload));
    const answer = new Readable({ read() { /* all pushed below */ } });
    answer.push(payload);
    void drainRequest(request.raw, options).then(() => answer.push(null));
    done(null, answer);
  });
}
