/**
 * Every part of Connect-ES the kit uses that Connect marks `@private` ("Internal code, does not
 * follow semantic versioning"), in one place. The kit's unary gRPC paths (the client's
 * `unary-transport.ts`, the server's `unary-grpc-path.ts`) frame and send messages themselves,
 * for about three times Connect-ES's own throughput on a gRPC hop (bench/README.md, "Library
 * internals"), and call these so that what they accept, answer and throw stays Connect's to the
 * byte: content types, `grpc-timeout`, HTTP statuses, error trailers (with their binary details)
 * and the unary implementation behind Connect's interceptors.
 *
 * Because nothing here is covered by semver, `@connectrpc/connect` is pinned to one exact version
 * in packages/kit/package.json, and `connect-internals.test.ts` asserts each function still exists
 * and behaves as the kit relies on: an upgrade that changes one fails that test, not a service.
 * Nothing else in the kit imports `@connectrpc/connect/protocol*`.
 */
export { invokeUnaryImplementation } from '@connectrpc/connect/protocol';
export {
  codeFromHttpStatus, findTrailerError, parseContentType, parseTimeout, setTrailerStatus, validateTrailer,
} from '@connectrpc/connect/protocol-grpc';
