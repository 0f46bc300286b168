/**
 * gRPC between services: the kit's Connect-ES server (deadline, errors, health, graceful
 * shutdown) and its client (the same guarantees as the HTTP client, as Connect interceptors).
 *
 * @example
 * // server, in a ServiceDefinition: grpc: { port: (config) => config.GRPC_PORT, routes(router, { db }) { ... } }
 * const users = createGrpcClient({ name: 'users', urls: config.USERS_GRPC_URLS }).client(UsersService);
 * const { user } = await users.getUser({ id }, { signal });
 */
export { createGrpcClient } from './client/grpc-client.ts';
export type { GrpcClient, GrpcClientOptions, GrpcClientStats, GrpcInstanceStats } from './client/grpc-client-types.ts';
export { startGrpcServer, type GrpcServer, type GrpcServerOptions } from './server/grpc-server.ts';
export type { RpcCallRecord } from './server/answer-interceptor.ts';
export { validateInput } from './server/validate-input.ts';
