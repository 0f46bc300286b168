import type { FastifyInstance } from 'fastify';

/**
 * The console can stop and kill the shop's processes and switch faults on, so it answers this
 * machine's own pages only:
 * - its `Host` must be the loopback address it listens on: a site whose name is pointed at
 *   127.0.0.1 (DNS rebinding) cannot read or drive it;
 * - a request that changes something must be JSON (`application/json`, which a page on another
 *   site can only send after a CORS preflight the console never allows) from no other origin;
 *   the services' spans (`POST /v1/traces`) may also come as OTLP protobuf
 *   (`application/x-protobuf`), which is no more a type a page can send without that preflight.
 * No CORS headers are ever sent.
 */
export function answerLocalPagesOnly(app: FastifyInstance, port: () => number): void {
  app.addHook('onRequest', async function localOnly(request, reply) {
    const hosts = [`127.0.0.1:${port()}`, `localhost:${port()}`, `[::1]:${port()}`];
    if (!hosts.includes(request.headers.host ?? '')) return reply.code(421).type('text/plain').send('this console answers on its own loopback address only');
    if (request.method === 'GET' || request.method === 'HEAD') return undefined;
    const origin = request.headers.origin;
    if (origin !== undefined && !hosts.some((host) => origin === `http://${host}`)) return reply.code(403).type('text/plain').send('not from another site');
    const type = String(request.headers['content-type'] ?? '');
    const spansInProtobuf = request.url === '/v1/traces' && type.startsWith('application/x-protobuf');
    if (!type.startsWith('application/json') && !spansInProtobuf) return reply.code(415).type('text/plain').send('send JSON');
    return undefined;
  });
}
