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
 */
export { defineEvent, type EventDefinition } from './define.ts';
export { orderCancelled, orderCreated, type OrderCancelled, type OrderCreated } from './orders.ts';
export { userRegistered, type UserRegistered } from './users.ts';
