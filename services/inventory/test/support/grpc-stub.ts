import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoRoot } from '@baton/contracts/proto';
import { serviceTokenInterceptor } from '@baton/kit/testing';

// A stock gRPC client, one Baton did not write, loading the .proto files themselves: what any
// other gRPC service in any language would see of inventory.
const definition = protoLoader.loadSync(['baton/inventory/v1/inventory.proto', 'grpc/health/v1/health.proto'], {
  includeDirs: [protoRoot], defaults: true, enums: String,
});

export type Callback<T> = (error: grpc.ServiceError | null, response?: T) => void;
export interface WireProduct { sku: string; name: string; priceCents: number; currency: string; available: number }
export interface WireReservation { orderId: string; status: string; items: Array<{ sku: string; quantity: number; priceCents: number; currency: string }> }

export interface InventoryStub extends grpc.Client {
  GetProduct(request: { sku: string }, options: grpc.CallOptions, callback: Callback<{ product: WireProduct }>): void;
  CreateReservation(request: { orderId: string; items: Array<{ sku: string; quantity: number }>; ttlSeconds?: number }, options: grpc.CallOptions, callback: Callback<{ reservation: WireReservation; created: boolean }>): void;
  GetReservation(request: { orderId: string }, options: grpc.CallOptions, callback: Callback<{ reservation: WireReservation }>): void;
}

export interface HealthStub extends grpc.Client {
  Check(request: { service: string }, options: grpc.CallOptions, callback: Callback<{ status: string }>): void;
  Watch(request: { service: string }, options?: grpc.CallOptions): grpc.ClientReadableStream<{ status: string }>;
}

type Ctor<T> = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => T;
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  baton: { inventory: { v1: { InventoryService: Ctor<InventoryStub> } } };
  grpc: { health: { v1: { Health: Ctor<HealthStub> } } };
};

/**
 * grpc-js stubs for inventory's gRPC listener at `url` (`http://127.0.0.1:9082`); the inventory
 * one calls as `caller` (orders, the one service that may), with its service token.
 */
export function inventoryStubs(url: string, { caller = 'orders' }: { caller?: string } = {}): { inventory: InventoryStub; health: HealthStub; close(): void } {
  const address = new URL(url).host;
  const inventory = new loaded.baton.inventory.v1.InventoryService(address, grpc.credentials.createInsecure(), { interceptors: [serviceTokenInterceptor(caller, 'inventory')] });
  const health = new loaded.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  return { inventory, health, close: () => { inventory.close(); health.close(); } };
}

/** A callback call as a promise: the answer, or the grpc-js ServiceError it failed with. */
export function unary<T>(fn: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((error, response) => (error ? reject(error) : resolve(response as T))));
}

/** Like `unary`, but answers the ServiceError instead of throwing it, for tests that expect one. */
export function failure(fn: (callback: Callback<unknown>) => void): Promise<grpc.ServiceError> {
  return unary(fn).then(
    () => { throw new Error('the call succeeded; an error was expected'); },
    (error: grpc.ServiceError) => error,
  );
}

export const inFiveSeconds = (): grpc.CallOptions => ({ deadline: Date.now() + 5_000 });
