import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

export interface DrainOptions {
  /** Past this many bytes the rest is not worth reading: the connection is cut instead. */
  maxBytes?: number;
  /** Past this time the same: a client that trickles a huge body does not hold us. */
  timeoutMs?: number;
}

/**
 * Reads and discards what is left of a request body before its error answer is sent (the
 * "lingering close" of nginx). Fastify answers 413 without reading a body that is too large;
 * the client is then still writing when the server closes, and it sees EPIPE or a reset
 * instead of the 413. Draining first lets the client finish and read the answer. Bounded in
 * bytes and time, so a client cannot keep a connection busy with an endless body.
 *
 * Written by hand because neither Fastify nor Node offers a lingering close.
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
 * An error answered before the body arrived (too large, rate-limited, unauthenticated): the
 * client is still sending, so let it finish and it reads the answer, not a broken pipe.
 */
export function installBodyDrain(app: FastifyInstance): void {
  // A callback, not an async function: most answers have nothing to drain and cost no promise.
  app.addHook('onSend', function drainUnreadBody(request, reply, payload, done) {
    // A 408 is for a body that stopped arriving (receive-timeout.ts): there is nothing to wait for.
    if (reply.statusCode < 400 || reply.statusCode === 408 || request.raw.complete || request.raw.destroyed) {
      done(null, payload);
      return;
    }
    void drainRequest(request.raw).then(() => done(null, payload));
  });
}
