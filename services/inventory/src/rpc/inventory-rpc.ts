import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import { type InventoryService, ReservationSchema, ReservationStatus } from '@baton/contracts/inventory/v1';
import { skuParams } from '@baton/contracts/http';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { validateInput } from '@baton/kit/rpc';
import { productView } from '../catalogue/product.ts';
import { findProduct } from '../catalogue/repository.ts';
import { confirm } from '../reservations/confirm.ts';
import { release } from '../reservations/release.ts';
import { findReservation, type Reservation } from '../reservations/reservation.ts';
import { reserve } from '../reservations/reserve.ts';
import { orderIdParams, reserveBodyOf } from '../routes/reservation-schemas.ts';

export interface InventoryRpcOptions {
  db: Database;
  /** The hold of a reservation whose request names none (`ttl_seconds` 0). */
  defaultTtlSeconds: number;
  /** The longest hold a request may ask for; past it, INVALID_ARGUMENT naming `ttlSeconds`. */
  maxTtlSeconds: number;
}

const statusOnTheWire = {
  held: ReservationStatus.HELD,
  confirmed: ReservationStatus.CONFIRMED,
  released: ReservationStatus.RELEASED,
  expired: ReservationStatus.EXPIRED,
} as const;

function onTheWire(reservation: Reservation) {
  return create(ReservationSchema, {
    orderId: reservation.orderId,
    status: statusOnTheWire[reservation.status],
    items: reservation.items,
    expiresAt: timestampFromDate(reservation.expiresAt),
  });
}

/**
 * `baton.inventory.v1.InventoryService` over gRPC: the same domain code and the same input rules
 * (the HTTP routes' zod schemas) as `/v1/products` and `/v1/reservations`, so both edges agree.
 * Every handler passes the kit's signal down to the database, so a call whose deadline passes
 * or whose caller goes away stops its query.
 */
export function createInventoryRpc({ db, defaultTtlSeconds, maxTtlSeconds }: InventoryRpcOptions): ServiceImpl<typeof InventoryService> {
  const reserveBody = reserveBodyOf({ maxTtlSeconds });
  return {
    async getProduct(request, { signal }) {
      const { sku } = validateInput(skuParams, { sku: request.sku });
      const row = await findProduct(db, sku, { signal });
      if (row === undefined) throw new KitError(Code.NotFound, 'no such product', { reason: 'unknown_sku', details: { sku } });
      // The message has what checkout needs; the rest of the view is for the catalogue.
      const { name, priceCents, currency, available } = productView(row);
      return { product: { sku: row.sku, name, priceCents, currency, available } };
    },
    async createReservation(request, { signal }) {
      const { orderId, items, ttlSeconds = defaultTtlSeconds } = validateInput(reserveBody, {
        orderId: request.orderId,
        items: request.items.map(({ sku, quantity }) => ({ sku, quantity })),
        ...(request.ttlSeconds === 0 ? {} : { ttlSeconds: request.ttlSeconds }),
      });
      const { reservation, created } = await reserve(db, { orderId, items, ttlSeconds }, { signal });
      return { reservation: onTheWire(reservation), created };
    },
    async getReservation(request, { signal }) {
      const { orderId } = validateInput(orderIdParams, { orderId: request.orderId });
      const reservation = await findReservation(db, orderId, { signal });
      if (reservation === undefined) throw new KitError(Code.NotFound, 'no reservation for this order', { details: { orderId } });
      return { reservation: onTheWire(reservation) };
    },
    async confirmReservation(request, { signal }) {
      const { orderId } = validateInput(orderIdParams, { orderId: request.orderId });
      return { reservation: onTheWire(await confirm(db, orderId, { signal })) };
    },
    async releaseReservation(request, { signal }) {
      const { orderId } = validateInput(orderIdParams, { orderId: request.orderId });
      return { reservation: onTheWire(await release(db, orderId, { signal })) };
    },
  };
}
