import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { signalOf } from '@baton/kit/service';
import { confirm } from '../reservations/confirm.ts';
import { release } from '../reservations/release.ts';
import { findReservation, reservationView } from '../reservations/reservation.ts';
import { reserve } from '../reservations/reserve.ts';
import { orderIdParams, reservationResponse, reserveBodyOf } from './reservation-schemas.ts';

export interface ReservationRoutesOptions {
  db: Database;
  /** The hold of a reservation whose request names none. */
  defaultTtlSeconds: number;
  /** The longest hold a request may ask for; past it, 400 naming `body.ttlSeconds`. */
  maxTtlSeconds: number;
}

// Fifty lines fit in a few kilobytes; anything far larger is not a reservation.
const reservationBodyLimitBytes = 64 * 1024;

/**
 * Reservations, the orders service's half of checkout. Every call is idempotent by order id,
 * so a caller that lost an answer can simply ask again.
 */
export function registerReservationRoutes(app: FastifyInstance, { db, defaultTtlSeconds, maxTtlSeconds }: ReservationRoutesOptions): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const answer = { 200: reservationResponse };
  // Checkout: under overload these are the last requests the service sheds. A release is the
  // compensation of a failed checkout, so it ranks as high as the reservation it undoes.
  // Stock is held and given back by checkout alone: only orders may (the gateway may not).
  const config = { priority: 'high', callers: ['orders'] } as const;
  const reserveBody = reserveBodyOf({ maxTtlSeconds });

  api.post('/v1/reservations', {
    config,
    bodyLimit: reservationBodyLimitBytes,
    schema: { body: reserveBody, response: { 200: reservationResponse, 201: reservationResponse } },
  }, async function createReservation(request, reply) {
    const { orderId, items, ttlSeconds = defaultTtlSeconds } = request.body;
    const { reservation, created } = await reserve(db, { orderId, items, ttlSeconds }, { signal: signalOf(request) });
    if (created) reply.code(201).header('location', `/v1/reservations/${orderId}`);
    return reservationView(reservation);
  });

  api.get('/v1/reservations/:orderId', { config: { callers: ['orders'] }, schema: { params: orderIdParams, response: answer } }, async function getReservation(request) {
    const reservation = await findReservation(db, request.params.orderId, { signal: signalOf(request) });
    if (reservation === undefined) throw new KitError(Code.NotFound, 'no reservation for this order', { details: { orderId: request.params.orderId } });
    return reservationView(reservation);
  });

  api.post('/v1/reservations/:orderId/confirm', { config, schema: { params: orderIdParams, response: answer } }, async function confirmReservation(request) {
    return reservationView(await confirm(db, request.params.orderId, { signal: signalOf(request) }));
  });

  api.post('/v1/reservations/:orderId/release', { config, schema: { params: orderIdParams, response: answer } }, async function releaseReservation(request) {
    return reservationView(await release(db, request.params.orderId, { signal: signalOf(request) }));
  });
}
