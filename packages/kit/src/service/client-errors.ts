import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError } from 'fastify';
import { Code, KitError, problemContentType, toProblem } from '../errors/index.ts';

/**
 * What a request that Node's HTTP parser refused is told. Such a request never reaches Fastify's
 * router or hooks (its headers are too large, it arrived too slowly, it is not HTTP), so Node,
 * or Fastify's default handler, would answer with a plain text or JSON body; here it gets a
 * problem document like every other error, then the connection closes (the parser cannot
 * continue on it).
 */
export function kitErrorOfClientError(error: ConnectionError): KitError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new KitError(Code.InvalidArgument, 'the request line or headers are too large', { reason: 'headers_too_large' });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new KitError(Code.DeadlineExceeded, 'the request did not arrive in time', { reason: 'request_timeout' });
    default:
      return new KitError(Code.InvalidArgument, 'the request is not valid HTTP', { reason: 'bad_request' });
  }
}

// Sockets already answered: the parser, once failed, fails again on every further chunk.
const answered = new WeakSet<Socket>();

// How long a refused connection is still read (and what arrives dropped) after its answer: a
// client still sending would otherwise meet a reset, which can discard the answer unread.
const lingerMs = 1_000;

/** Fastify's `clientErrorHandler`: answers a parser error with a problem document and closes. */
export function answerClientError(error: ConnectionError, socket: Socket): void {
  // A reset connection has nobody to answer (Node's own rule, as in Fastify's default handler).
  if (error.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  answered.add(socket);
  // Bytes that follow a request on the same connection (a body sent without a length, say) fail
  // to parse while that request's answer is still being written: a second answer would follow
  // the first on the wire and be read as garbage, so the connection closes once the first is out.
  // Node keeps the answer in progress on the socket; it has no public name.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight) {
    // But when the request in flight has not all arrived, the error is its own (the client
    // went away mid-body: the parser meets the end of the stream), and nothing more of it will
    // come: the connection closes now, so the request is told it was cut short (its stream
    // ends with `aborted`, its signal fires) rather than waiting for the rest for good.
    if (!inFlight.req.complete) {
      socket.destroy();
      return;
    }
    inFlight.once('close', () => socket.destroy());
    return;
  }
  if (socket.writable) {
    const problem = toProblem(kitErrorOfClientError(error));
    const body = JSON.stringify(problem);
    // The answer to a HEAD has no body, and its client would take one for garbage.
    const head = Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
    socket.end(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}\r\n`
      + `content-type: ${problemContentType}; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${head ? '' : body}`);
    setTimeout(() => socket.destroy(), lingerMs).unref();
  } else {
    socket.destroy();
  }
}

/**
 * Node's answer to an `Expect` header other than `100-continue`: 417, which Node would send with
 * no body at all. No Baton route expects anything, so it is refused, as a problem document.
 */
export function answerUnmetExpectation(_request: IncomingMessage, response: ServerResponse): void {
  const problem = toProblem(new KitError(Code.InvalidArgument, 'the Expect header asks for something this server does not do', { reason: 'expectation_failed' }));
  const body = JSON.stringify(problem);
  // The body the request may carry is not read: the connection closes, so its bytes are never
  // taken for a next request.
  response.writeHead(problem.status, {
    'content-type': `${problemContentType}; charset=utf-8`, 'content-length': Buffer.byteLength(body), connection: 'close',
  }).end(body);
}
