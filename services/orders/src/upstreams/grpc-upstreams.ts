import type { Client } from '@connectrpc/connect';
import { type InventoryService, type Reservation as WireReservation, ReservationStatus } from '@baton/contracts/inventory/v1';
import { type Payment as WirePayment, type PaymentService, PaymentStatus } from '@baton/contracts/payment/v1';
import type { UsersService } from '@baton/contracts/users/v1';
import { KitError } from '@baton/kit/errors';
import { badAnswer } from './bad-answer.ts';
import type { CallOptions } from './call-options.ts';
import { withOutOfStockDetails } from './out-of-stock.ts';
import type { InventoryApi, Payment, PaymentApi, Reservation, UsersApi } from './upstreams.ts';

// The request id goes as a header, so inventory's and users' log lines join this one.
const call = ({ signal, requestId }: CallOptions) => ({ signal, ...(requestId === undefined ? {} : { headers: { 'x-request-id': requestId } }) });

const statusOf: Readonly<Record<number, Reservation['status']>> = {
  [ReservationStatus.HELD]: 'held',
  [ReservationStatus.CONFIRMED]: 'confirmed',
  [ReservationStatus.RELEASED]: 'released',
  [ReservationStatus.EXPIRED]: 'expired',
};

/** The users service over gRPC, through the kit's client (deadline, breaker, retries for reads). */
export function createGrpcUsersApi(users: Client<typeof UsersService>): UsersApi {
  return {
    async getUser(userId, options) {
      const { user } = await users.getUser({ id: userId }, call(options));
      if (user === undefined) throw badAnswer('GetUser answered without a user');
      return { id: user.id, email: user.email, name: user.name };
    },
  };
}

/**
 * The inventory service over gRPC. Every reservation method is IDEMPOTENT in the contract
 * (inventory reserves once per order id), so the kit's client may retry each of them, as the
 * HTTP implementation may with its idempotency key.
 */
export function createGrpcInventoryApi(inventory: Client<typeof InventoryService>): InventoryApi {
  const fromWire = (reservation: WireReservation | undefined): Reservation => {
    if (reservation === undefined) throw badAnswer('a reservation call answered without a reservation');
    const status = statusOf[reservation.status];
    if (status === undefined) throw badAnswer(`unknown reservation status ${reservation.status}`);
    return {
      orderId: reservation.orderId,
      status,
      items: reservation.items.map(({ sku, quantity, priceCents, currency, name }) => ({ sku, quantity, priceCents, currency, name: name || sku })),
    };
  };
  const guarded = async (work: () => Promise<{ reservation?: WireReservation | undefined }>) => {
    try {
      return fromWire((await work()).reservation);
    } catch (error) {
      throw withOutOfStockDetails(KitError.from(error));
    }
  };
  return {
    reserve: (orderId, items, options) => guarded(() => inventory.createReservation({ orderId, items }, call(options))),
    confirm: (orderId, options) => guarded(() => inventory.confirmReservation({ orderId }, call(options))),
    release: (orderId, options) => guarded(() => inventory.releaseReservation({ orderId }, call(options))),
  };
}

const paymentStatusOf: Readonly<Record<number, Payment['status']>> = {
  [PaymentStatus.AUTHORIZING]: 'authorizing',
  [PaymentStatus.AUTHORIZED]: 'authorized',
  [PaymentStatus.DECLINED]: 'declined',
  [PaymentStatus.CAPTURED]: 'captured',
  [PaymentStatus.VOIDED]: 'voided',
  [PaymentStatus.REFUNDED]: 'refunded',
};

/** The payment service over gRPC. Every method is IDEMPOTENT in the contract, so the kit's client may retry each. */
export function createGrpcPaymentApi(payment: Client<typeof PaymentService>): PaymentApi {
  const fromWire = ({ payment: wire }: { payment?: WirePayment | undefined }): Payment => {
    if (wire === undefined) throw badAnswer('a payment call answered without a payment');
    const status = paymentStatusOf[wire.status];
    if (status === undefined) throw badAnswer(`unknown payment status ${wire.status}`);
    return { status, amountCents: wire.amountCents, currency: wire.currency, brand: wire.cardBrand || null, last4: wire.cardLast4 || null, refundedCents: wire.refundedCents };
  };
  return {
    authorize: async (orderId, input, options) => fromWire(await payment.authorize({ orderId, ...input }, call(options))),
    capture: async (orderId, options) => fromWire(await payment.capture({ orderId }, call(options))),
    void: async (orderId, options) => fromWire(await payment.void({ orderId }, call(options))),
    refund: async (orderId, options) => fromWire(await payment.refund({ orderId }, call(options))),
  };
}
