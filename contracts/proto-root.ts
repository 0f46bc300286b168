import { fileURLToPath } from 'node:url';

/**
 * The folder that holds every .proto of Baton, for tools that load the sources themselves (a stock
 * `@grpc/proto-loader` client in tests, the benchmark's bare grpc-js server). Code that only
 * needs the messages imports the generated modules instead (`@baton/contracts/users/v1`).
 *
 * @example
 * protoLoader.loadSync('baton/users/v1/users.proto', { includeDirs: [protoRoot] });
 */
export const protoRoot = fileURLToPath(new URL('./proto/', import.meta.url));
