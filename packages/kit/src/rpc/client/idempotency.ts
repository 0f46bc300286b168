import { MethodOptions_IdempotencyLevel as IdempotencyLevel } from '@bufbuild/protobuf/wkt';
import type { DescMethod } from '@bufbuild/protobuf';

/**
 * Whether the contract says a method may be sent twice: `option idempotency_level =
 * NO_SIDE_EFFECTS` (a read) or `IDEMPOTENT` (a write keyed so that a repeat changes nothing).
 * The kit's gRPC client retries only these, as its HTTP client retries only GET, PUT, DELETE or
 * requests with an idempotency key. Read from the generated descriptors, so the .proto file is
 * the one place that decides it.
 *
 * @example
 * isIdempotentMethod(InventoryService.method.createReservation); // true: IDEMPOTENT in inventory.proto
 */
export function isIdempotentMethod(method: DescMethod): boolean {
  return method.idempotency === IdempotencyLevel.NO_SIDE_EFFECTS || method.idempotency === IdempotencyLevel.IDEMPOTENT;
}

/** Whether the contract marks a method as a read: one a hedge could race safely. */
export function isReadMethod(method: DescMethod): boolean {
  return method.idempotency === IdempotencyLevel.NO_SIDE_EFFECTS;
}
