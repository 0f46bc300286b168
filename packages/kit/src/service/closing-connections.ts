import type { FastifyInstance } from 'fastify';
import { Code, KitError } from '../errors/index.ts';
import { notStartedDetail } from '../upstream/failures.ts';

/**
 * Once the listener closes, a keep-alive connection whose response has finished would keep the
 * server open until the shutdown timeout cut it. So every answer sent once `isClosing()` says
 * `Connection: close`, and once the listener has closed, a connection that turns idle anyway
 * (its response began before shutdown) is closed as soon as it does.
 */
export function installConnectionClosing(app: FastifyInstance, isClosing: () => boolean): void {
  app.addHook('onSend', function closeConnectionWhenClosing(_request, reply, payload, done) {
    if (isClosing()) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', function closeIdleWhenClosing(_request, _reply, done) {
    // Only once the listener has closed: during the shutdown notice an idle connection is left
    // open, so a client that sends on it hears `shutting_down` instead of being cut under a request.
    if (isClosing() && !app.server.listening) setImmediate(() => app.server.closeIdleConnections());
    done();
  });
}

/**
 * What a request that arrives on an open connection once the server is closing is refused with,
 * by the request lifecycle, before anything runs: 503 `shutting_down`, with `Retry-After`. The
 * reason promises the caller that the work was never started, so a kit client tries it again
 * elsewhere (or once the instance is back), even a POST without a key. (Fastify's own
 * `return503OnClosing` answers a bare 503 a client cannot tell from a failure halfway.)
 */
export function shuttingDown(): KitError {
  // `not_started` is the promise a kit client trusts (a reason alone could be passed on from
  // an upstream after work was done); a 503 says Retry-After: 1 by itself.
  return new KitError(Code.Unavailable, 'this instance is shutting down', { reason: 'shutting_down', details: { [notStartedDetail]: true } });
}
