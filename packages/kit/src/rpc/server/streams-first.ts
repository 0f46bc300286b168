import type http2 from 'node:http2';

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => void;

/**
 * Shows each new HTTP/2 stream to `take` before Node's compatibility layer (the `(req, res)` API
 * Connect-ES's node adapter is written for) makes a request and a response of it; a stream
 * `take` answers for (returns true) never becomes one. Making those two objects cost ~30 µs of
 * CPU per call on the bench machine (a plain node:http2 answer with and without them), about as
 * much as the rest of the kit's unary path adds.
 *
 * Node puts its compatibility layer on the server as its one 'stream' listener when it is given
 * a request listener (`http2.createServer(handler)`); this moves that listener behind `take`.
 * Any other arrangement is refused at start, rather than let two answer one stream.
 *
 * That listener is Node's internal (lib/internal/http2/compat.js), and this file is the kit's one
 * use of it. Node has no public way to the same: the request listener always gets its request
 * and response, and a stream answered past them (on `req.stream`) gets its trailers sent twice.
 * Answered through them instead, the unary path cost 1.08–1.24× the CPU per call in three
 * paired runs (bench/README.md, "Library internals"). So the kit pins the Node it runs on
 * (`engines` in packages/kit/package.json, which the install checks) and streams-first.test.ts
 * fails when the listener's shape changes.
 *
 * @example
 * const server = http2.createServer(connectNodeAdapter({ routes }));
 * takeStreamsFirst(server, (stream, headers) => unary.serve(stream, headers));
 */
export function takeStreamsFirst(server: http2.Http2Server, take: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean): void {
  const listeners = server.listeners('stream') as StreamListener[];
  const [compatibility] = listeners;
  if (listeners.length !== 1 || compatibility === undefined || server.listenerCount('request') === 0) {
    throw new Error('takeStreamsFirst needs a server made with a request listener, and no other stream listener');
  }
  server.removeListener('stream', compatibility);
  server.on('stream', function takeFirst(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) {
    if (!take(stream, headers)) compatibility.call(server, stream, headers, ...rest);
  });
}
