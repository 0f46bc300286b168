import type * as grpc from '@grpc/grpc-js';

// What the gRPC scenarios (grpc-hop, library-internals) send and answer: one user, and the shape
// of a @grpc/grpc-js stub of `baton.users.v1.UsersService` loaded from the .proto.

export const benchUser = { id: '6f1c8a52-0d1e-4c9b-9a57-2f4c3b1d0e7a', email: 'ada.lovelace@example.com', name: 'Ada Lovelace' };

export type GrpcCallback = (error: grpc.ServiceError | null, response?: unknown) => void;

export interface UsersStub extends grpc.Client {
  GetUser(request: { id: string }, options: grpc.CallOptions, callback: GrpcCallback): void;
}
