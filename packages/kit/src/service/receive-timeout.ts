import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Code, KitError } from '../errors/index.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * This route streams its body (an upload): instead of arriving whole within
     * `REQUEST_RECEIVE_TIMEOUT_MS`, the body may take as long as it needs, but is cut off once no
     * byte of it has arrived for this long. The kit then answers 408 `request_timeout` itself and
     * the handler's read of the body fails: a handler that sees `reply.sent` returns `reply`.
     */
    bodyIdleTimeoutMs?: number;
  }
}

/** A request whose body is still arriving. */
interface Receiving {
  request: FastifyRequest;
  reply: FastifyReply;
  startedMs: number;
  /** Set for a streamed route: the longest a body may go without a byte. */
  idleMs: number | undefined;
  bytesRead: number;
  progressedMs: number;
  /** An answer is on its way (an error before the body was all read): it is not answered again. */
  answered: boolean;
  /** When that answer was seen finished. */
  finishedMs?: number;
}

// How long a connection whose answer is out, and whose body never all came, is still read before it closes.
const lingerMs = 1_000;

/**
 * Whether the server itself has stopped reading this body: its reader is not keeping up (a pipe
 * paused it, its buffer is full), so no byte arrives because none is asked for. That is not the
 * client stalling: an upload passed on to a service that is slow to take it (the gateway to
 * media, media to its disk) waits on the server, and is not cut for it. Seen before this check:
 * the gateway answered 408 "no byte of the request arrived" to a client still sending, while
 * media, at a lower priority on a busy machine, read slowly.
 */
function heldBack(request: FastifyRequest): boolean {
  const { raw } = request;
  return raw.readableFlowing === false || raw.readableLength >= raw.readableHighWaterMark;
}

/**
 * Whether a request has a body to come: in HTTP/1.1 only one announced by `Content-Length` (not 0)
 * or `Transfer-Encoding` does (RFC 9112, 6.3). Node has not yet marked even a GET `complete` when
 * its first hook runs (the end of its message is parsed after the request is handed over), so
 * without this every request was watched, and held, until the next sweep.
 */
function announcesBody(request: FastifyRequest): boolean {
  const { headers } = request;
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export interface ReceiveTimeoutOptions {
  /** A body that is not streamed must arrive whole within this; 0 turns the check off. */
  receiveTimeoutMs: number;
  /** How often bodies still arriving are looked at; the timeouts are kept to within this. */
  sweepEveryMs?: number;
}

/**
 * Slow-loris protection for request bodies. Node's own `requestTimeout` counts from the first
 * byte to the last of every request, with no exception, so it would cut a 50 MB upload on a slow
 * line; and once a request is routed, Node's timeout handler found a response in progress and
 * waited for it, which never came: a client that sent half a body and stopped held its
 * connection for good (seen: still open after 40 s with a 1 s limit). Here, a request whose body
 * is still arriving is looked at every `sweepEveryMs`: a body past `receiveTimeoutMs`, or a
 * streamed route's body idle past its `bodyIdleTimeoutMs`, is answered 408 `request_timeout`
 * and its connection closed. Idle means the client sent nothing while the server was reading:
 * time the server itself holds the body back (backpressure) does not count. A request without a
 * body (a GET) costs two header reads; one whose body is read is let go with its answer.
 * Written by hand: neither Node nor Fastify has a per-route idle timeout.
 */
export function installReceiveTimeout(app: FastifyInstance, { receiveTimeoutMs, sweepEveryMs = 250 }: ReceiveTimeoutOptions): void {
  const receiving = new Map<FastifyRequest, Receiving>();
  let sweeper: ReturnType<typeof setInterval> | undefined;

  const sweep = () => {
    const nowMs = performance.now();
    for (const entry of receiving.values()) {
      const { request } = entry;
      if (request.raw.complete || request.raw.destroyed) {
        receiving.delete(request);
        continue;
      }
      if (entry.answered) {
        // Answered, and the rest of the body still not in: nothing waits for it, and a client
        // that never sends it would hold the connection for good. Drained meanwhile within
        // drain-request.ts's bounds, so a client still sending has read the answer.
        // Not at once: a client still sending would meet a reset, which can throw away the
        // answer it has not read yet. It is read and dropped for a second more: resumed here, as
        // Node dumps a body no one read, but not one a handler had piped somewhere (its pipe's end
        // left it paused, and closing a socket with bytes unread sends that reset at once: the
        // images e2e test's client lost its 413 and 503 so).
        if (request.raw.readableFlowing !== true) request.raw.resume();
        if (entry.reply.raw.writableFinished) {
          entry.finishedMs ??= nowMs;
          if (nowMs - entry.finishedMs >= lingerMs) {
            receiving.delete(request);
            request.raw.socket.destroy();
          }
        }
        continue;
      }
      if (entry.idleMs === undefined) {
        if (receiveTimeoutMs > 0 && nowMs - entry.startedMs > receiveTimeoutMs) timeOut(entry, `the request did not arrive whole within ${receiveTimeoutMs} ms`);
        continue;
      }
      const bytesRead = request.raw.socket.bytesRead;
      if (bytesRead !== entry.bytesRead || heldBack(request)) {
        entry.bytesRead = bytesRead;
        entry.progressedMs = nowMs;
      } else if (nowMs - entry.progressedMs > entry.idleMs) {
        timeOut(entry, `no byte of the request arrived for ${entry.idleMs} ms`);
      }
    }
    if (receiving.size === 0 && sweeper !== undefined) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };

  const timeOut = (entry: Receiving, message: string) => {
    receiving.delete(entry.request);
    const { request, reply } = entry;
    const { raw } = request;
    request.log.info({ reason: 'request_timeout' }, message);
    const error = new KitError(Code.DeadlineExceeded, message, { reason: 'request_timeout' });
    // Node forgets a request once its response has finished, and the request's stream would then
    // wait for the rest of its body for good: it is ended here, with the error, once the answer
    // is out (or at once when there is no answer left to give).
    const end = () => {
      raw.destroy(error);
      raw.socket.destroy();
    };
    if (reply.sent || reply.raw.headersSent) {
      end();
      return;
    }
    reply.raw.once('finish', end);
    if (entry.idleMs === undefined && raw.listenerCount('error') > 0) {
      // Fastify's body parser is reading it: told of the error as of any broken body, it answers
      // through the error handler and closes the connection, as for a body too large.
      raw.emit('error', error);
      return;
    }
    // A streamed route's handler is reading it: the answer is the kit's, and the handler's read
    // fails after it.
    reply.header('connection', 'close').send(error);
  };

  app.addHook('onRequest', function watchBody(request, reply, done) {
    if (!request.raw.complete && announcesBody(request)) {
      const idleMs = request.routeOptions.config.bodyIdleTimeoutMs;
      if (idleMs !== undefined || receiveTimeoutMs > 0) {
        const nowMs = performance.now();
        receiving.set(request, { request, reply, startedMs: nowMs, idleMs, bytesRead: request.raw.socket.bytesRead, progressedMs: nowMs, answered: false });
        if (sweeper === undefined) {
          sweeper = setInterval(sweep, sweepEveryMs);
          sweeper.unref();
        }
      }
    }
    done();
  });
  // Once an answer is on its way (an error before the body was all read, say), a 408 would be a
  // second answer: what is left of the body is drained within drain-request.ts's own bounds,
  // and the connection closed once the answer is out if the body still has not come.
  // A body all read by then is watched no longer: the request is let go with its answer, not
  // held until the next sweep (a request kept a quarter of a second outlives young-generation
  // collections, and is copied and promoted for nothing).
  app.addHook('onSend', function answerUnderWay(request, _reply, payload, done) {
    const entry = receiving.size > 0 ? receiving.get(request) : undefined;
    if (entry !== undefined) {
      if (request.raw.complete) receiving.delete(request);
      else entry.answered = true;
    }
    done(null, payload);
  });
  app.addHook('onClose', (_app, done) => {
    if (sweeper !== undefined) clearInterval(sweeper);
    receiving.clear();
    done();
  });
}
