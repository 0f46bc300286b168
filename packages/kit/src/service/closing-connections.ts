import type { FastifyInstance } from 'fastify';

/**
 * Once the listener closes, a keep-alive connection whose response has finished would keep the
 * server open until the shutdown timeout cut it. So every answer sent once `isClosing()` says
 * `Connection: close`, and a connection that turns idle anyway (its response began before
 * shutdown) is closed as soon as it does.
 */
export function installConnectionClosing(app: FastifyInstance, isClosing: () => boolean): void {
  app.addHook('onSend', function closeConnectionWhenClosing(_request, reply, payload, done) {
    if (isClosing()) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', function closeIdleWhenClosing(_request, _reply, done) {
    if (isClosing()) setImmediate(() => app.server.closeIdleConnections());
    done();
  });
}
