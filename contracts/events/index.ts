/**
 * Baton's event types, one owner each: the schemas every publisher writes and every consumer
 * reads. Each event travels as a CloudEvent whose `type` and `dataschema`
 * (`urn:baton:event:<type>:<version>`) come from here.
 *
 * | type | owner | data |
 * |---|---|---|
 * | `order.created` | orders | the order, and the customer's contact at checkout |
 * | `order.cancelled` | orders | which order, whose, and why |
 * | `user.registered` | users | the new account |
 * | `payment.captured` | payment | the order's payment taken: amount, card brand and last four |
 * | `payment.refunded` | payment | what was given back for the order |
 * | `payment.failed` | payment | the order's card declined, and the issuer's reason |
 * | `media.uploaded` | media | an image's original is stored; its sizes are to be rendered |
 * | `media.ready` | media | an image's sizes are rendered: the catalogue shows it |
 */
export { defineEvent, type EventDefinition } from './define.ts';
export { mediaReady, mediaUploaded, type MediaReady, type MediaUploaded } from './media.ts';
export { orderCancelled, orderCreated, type OrderCancelled, type OrderCreated } from './orders.ts';
export { paymentCaptured, paymentFailed, paymentRefunded, type PaymentCaptured, type PaymentFailed, type PaymentRefunded } from './payments.ts';
export { userRegistered, type UserRegistered } from './users.ts';
