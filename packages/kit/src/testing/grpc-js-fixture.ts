import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';
import { protoRoot } from '@baton/contracts/proto';

// @grpc/grpc-js is loaded on first use, not with @baton/kit/testing: every test imports that
// entry, and only the few that talk to a stock gRPC peer should pay for grpc-js.
const require = createRequire(import.meta.url);
const grpcJs = () => require('@grpc/grpc-js') as typeof Grpc;
const protoLoader = () => require('@grpc/proto-loader') as typeof ProtoLoader;

/** A user as @grpc/proto-loader gives it (plain fields, proto names). */
export interface WireUser { id: string; email: string; name: string }
export type GetUserCall = Grpc.ServerUnaryCall<{ id: string }, { user: WireUser }>;
export type GetUserHandler = (call: GetUserCall, callback: Grpc.sendUnaryData<{ user: WireUser }>) => void;
type Callback = (error: Grpc.ServiceError | null, response?: { user: WireUser }) => void;
interface UsersStub extends Grpc.Client {
  GetUser(request: { id: string }, metadata: Grpc.Metadata, options: Grpc.CallOptions, callback: Callback): Grpc.ClientUnaryCall;
}

function usersService(): Grpc.ServiceClientConstructor {
  const grpc = grpcJs();
  const definition = protoLoader().loadSync('baton/users/v1/users.proto', { includeDirs: [protoRoot] });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { baton: { users: { v1: { UsersService: Grpc.ServiceClientConstructor } } } };
  return loaded.baton.users.v1.UsersService;
}

/**
 * A stock @grpc/grpc-js server for UsersService, loaded from the .proto with @grpc/proto-loader:
 * the real gRPC implementation we did not write, as the peer of the kit's client in tests.
 */
export async function startGrpcJsUsersServer(getUser: GetUserHandler): Promise<{ url: string; close(): Promise<void> }> {
  const grpc = grpcJs();
  const server = new grpc.Server();
  server.addService(usersService().service, { GetUser: getUser });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, bound) => (e ? reject(e) : resolve(bound))));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** A stock @grpc/grpc-js client for UsersService at `url`: the peer of the kit's server in tests. */
export function grpcJsUsersClient(url: string) {
  const grpc = grpcJs();
  const Stub = usersService();
  const stub = new Stub(url.replace(/^http:\/\//, ''), grpc.credentials.createInsecure()) as unknown as UsersStub;
  return {
    /** Resolves with the answer or rejects with the grpc-js ServiceError; `onCall` gets the call, to cancel it. */
    getUser(id: string, { deadlineMs = 5_000, metadata = new grpc.Metadata(), onCall }: { deadlineMs?: number; metadata?: Grpc.Metadata; onCall?: (call: Grpc.ClientUnaryCall) => void } = {}) {
      return new Promise<{ user: WireUser }>((resolve, reject) => {
        const call = stub.GetUser({ id }, metadata, { deadline: Date.now() + deadlineMs }, (error, response) => (error ? reject(error) : resolve(response as { user: WireUser })));
        onCall?.(call);
      });
    },
    close: () => stub.close(),
  };
}
