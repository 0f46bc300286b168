import http2 from 'node:http2';
import type { DescService } from '@bufbuild/protobuf';
import {
  Code, ConnectError, createHandlerContext, createServiceImplSpec,
  type ConnectRouter, type Interceptor, type MethodImplSpec, type ServiceImpl,
} from '@connectrpc/connect';
import { invokeUnaryImplementation, parseContentType, parseTimeout, setTrailerStatus } from '../connect-internals.ts';
import { createUnaryMessageReader, encodeUnaryMessage } from '../envelope.ts';
import { connectErrorFromResetCode } from '../h2-errors.ts';
import { nodeHeadersOf } from '../h2-headers.ts';

export interface UnaryGrpcPathOptions {
  /** The server's Connect interceptors, outermost first: the same list Connect's adapter runs. */
  interceptors: Interceptor[];
  readMaxBytes: number;
  writeMaxBytes: number;
}

export interface UnaryGrpcPath {
  /** The router the service registers on: every service goes to Connect, and is noted here too. */
  recording(router: ConnectRouter): ConnectRouter;
  /** Serves the stream and returns true when it is a call this path takes; false leaves it to Connect. */
  serve(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean;
}

type UnarySpec = MethodImplSpec & { kind: 'unary' };

// Every finished call ends its context's signal, as Connect's handlers do, so work still tied to
// it stops. One reason for all of them: building a DOMException with a stack for each call (what
// an abort without a reason does) was ~6% of the CPU of Connect's own handler.
const callOver = new ConnectError('the call is over', Code.Canceled);

/**
 * The path unary gRPC calls take through a kit gRPC server: a binary, uncompressed gRPC request
 * for a unary method of a service registered on the Connect router. Everything else, the Connect
 * protocol, gRPC-Web, streams (the health Watch), JSON, compressed messages, is Connect-ES's
 * node adapter's, unchanged.
 *
 * Why a path of the kit's own: Connect-ES's gRPC handler runs each unary call through chains of
 * async generators (split, decompress, parse, invoke, serialize, compress, join, each its own
 * generator) and builds two DOMExceptions with stacks per call. Called by the same
 * @grpc/grpc-js client (bench/results/grpc-hop.md, CPU per call, client and server together):
 * ~630 µs with Connect's handler, ~240 µs with grpc-js's own server, ~280 µs with this path.
 * Connect's handler alone put the 0.9× target out of reach, whatever the client did. The call
 * itself stays Connect-ES's: its handler context
 * (`createHandlerContext`), its interceptors and implementation invoked by its own
 * `invokeUnaryImplementation`, its errors written as trailers by its own `setTrailerStatus`, and
 * its messages and codes for each protocol fault; only the framing is done here, in one read
 * and one write. Responses are never compressed (Connect would gzip an answer of 1 KiB or more
 * for a caller that accepts it); gRPC lets a server answer uncompressed.
 *
 * @example
 * const unary = createUnaryGrpcPath({ interceptors, readMaxBytes, writeMaxBytes });
 * const connect = connectNodeAdapter({ interceptors, routes: (router) => routes(unary.recording(router)) });
 * const server = http2.createServer(connect);
 * takeStreamsFirst(server, (stream, headers) => unary.serve(stream, headers));
 */
export function createUnaryGrpcPath({ interceptors, readMaxBytes, writeMaxBytes }: UnaryGrpcPathOptions): UnaryGrpcPath {
  const specs = new Map<string, UnarySpec>();

  function note(service: DescService, impl: Partial<ServiceImpl<DescService>>) {
    const spec = createServiceImplSpec(service, impl);
    for (const method of Object.values(spec.methods)) {
      if (method.kind === 'unary') specs.set(`/${service.typeName}/${method.method.name}`, method);
    }
  }

  return {
    recording(router) {
      const recording: ConnectRouter = {
        get handlers() { return router.handlers; },
        service(service, impl, options) {
          // A service with options of its own (other limits, protocols turned off) is Connect's alone.
          if (options === undefined) note(service, impl as Partial<ServiceImpl<DescService>>);
          router.service(service, impl, options);
          return recording;
        },
        rpc(method, impl, options) {
          router.rpc(method, impl, options);
          return recording;
        },
      };
      return recording;
    },
    serve(stream, headers) {
      if (headers[':method'] !== 'POST') return false;
      const spec = specs.get(headers[':path'] ?? '');
      if (spec === undefined) return false;
      const type = parseContentType(headers['content-type'] ?? null);
      if (type === undefined || !type.binary) return false;
      const encoding = headers['grpc-encoding'];
      if (encoding !== undefined && encoding !== 'identity') return false;
      serveUnary(spec, stream, headers);
      return true;
    },
  };

  function serveUnary(spec: UnarySpec, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) {
    // Whatever goes wrong on the stream ends here: the caller gone shows on the signal below.
    stream.on('error', noop);
    const grpcTimeout = headers['grpc-timeout'];
    const timeout = parseTimeout(typeof grpcTimeout === 'string' ? grpcTimeout : null, Number.MAX_SAFE_INTEGER);
    const requestHeader: [string, string][] = [];
    for (const key in headers) {
      if (key.startsWith(':')) continue;
      const value = headers[key];
      if (typeof value === 'string') requestHeader.push([key, value]);
      else if (Array.isArray(value)) for (const item of value) requestHeader.push([key, item]);
    }
    const context = createHandlerContext({
      ...spec,
      service: spec.method.parent,
      requestMethod: 'POST',
      protocolName: 'grpc',
      timeoutMs: timeout.timeoutMs,
      requestHeader,
      url: `http://${headers[':authority'] ?? headers.host ?? ''}${headers[':path'] ?? ''}`,
      responseHeader: { 'content-type': 'application/grpc+proto' },
      responseTrailer: { 'grpc-status': '0' },
    });
    let answered = false;
    // The caller cancelled (RST_STREAM) or its connection went: the handler's signal says so.
    const onClose = () => {
      if (!answered) context.abort(connectErrorFromResetCode(stream.rstCode) ?? new ConnectError('the caller went away', Code.Canceled));
    };
    stream.once('close', onClose);

    const answer = (body: Buffer | undefined, error: unknown, { refuseRest = false } = {}) => {
      answered = true;
      stream.off('close', onClose);
      context.abort(callOver);
      if (error !== undefined) {
        setTrailerStatus(context.responseTrailer, error instanceof ConnectError ? error : new ConnectError('internal error', Code.Internal, undefined, undefined, error));
      }
      if (stream.destroyed || stream.closed) return;
      stream.respond(nodeHeadersOf(context.responseHeader, { ':status': 200, date: httpDate() }), { waitForTrailers: true });
      stream.once('wantTrailers', () => {
        stream.sendTrailers(nodeHeadersOf(context.responseTrailer));
        // Answered before the request was read to its end: the caller is told to stop sending
        // the rest, once the trailers are out (as Connect's adapter does).
        if (refuseRest) setImmediate(() => { if (stream.state.remoteClose === 0) stream.close(http2.constants.NGHTTP2_NO_ERROR); });
      });
      stream.end(body);
    };

    const body = createUnaryMessageReader(readMaxBytes, 'protocol error: received extra input message for unary method');
    let refused = false;
    stream.on('data', (chunk: Buffer) => {
      if (refused) return;
      try {
        body.push(chunk);
      } catch (error) {
        refused = true;
        answer(undefined, error, { refuseRest: true });
      }
    });
    stream.once('end', () => {
      if (refused || answered) return;
      // As Connect's handler: a fault of the request itself is answered before any interceptor runs.
      let input;
      try {
        if (timeout.error !== undefined) throw timeout.error;
        input = body.read(spec.method.input);
        if (input === undefined) throw new ConnectError('protocol error: missing input message for unary method', Code.Unimplemented);
      } catch (error) {
        answer(undefined, error);
        return;
      }
      invokeUnaryImplementation(spec, context, input, interceptors).then(
        (output) => {
          let body: Buffer;
          try {
            body = encodeUnaryMessage(spec.method.output, output, writeMaxBytes);
          } catch (error) {
            answer(undefined, error);
            return;
          }
          answer(body, undefined);
        },
        (error: unknown) => answer(undefined, error),
      );
    });
  }
}

const noop = (): void => undefined;

// The Date header an HTTP server must send, made once a second, as Node's own compatibility
// layer does.
let dateSecond = 0;
let dateValue = '';
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(second * 1000).toUTCString();
  }
  return dateValue;
}
