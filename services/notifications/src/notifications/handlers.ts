import { orderCancelled, orderCreated, paymentCaptured, paymentRefunded, userRegistered } from '@baton/contracts/events';
import { Code, KitError } from '@baton/kit/errors';
import { on, type CloudEvent, type EventHandler, type HandlerContext } from '@baton/kit/messaging';
import { checkedMessageKey, type Mailer } from '../mail/mailer.ts';
import { orderCancellation, orderConfirmation, paymentReceipt, refundNotice, welcome, type MessageText } from './messages.ts';
import { insertNotification, recipientOfOrder } from './repository.ts';

/**
 * Records the notification and sends it, inside the consumer's transaction: if sending fails the
 * row rolls back and the event is delivered again; if the commit fails after a message went out,
 * the redelivery sends it again with the same Message-ID (and the same .eml file name), so a
 * mail server or reader can tell the copy. The row and the inbox entry commit together, so a
 * redelivery after the commit is a no-op.
 */
async function notify(mailer: Mailer, event: CloudEvent<unknown>, { tx, signal }: HandlerContext, n: { userId: string; recipient: string } & MessageText): Promise<void> {
  // The event id names the notification (one per event), its message (Message-ID) and its .eml
  // file, so a stored mail is found by the id the API lists: checked first, so a hostile id
  // reaches neither a header nor a path, nor the notifications table.
  const key = checkedMessageKey(event.id);
  const messageId = `<${key}@notifications.baton.invalid>`;
  await insertNotification(tx, {
    id: key,
    userId: n.userId, recipient: n.recipient, subject: n.subject, body: n.text,
    eventId: event.id, eventType: event.type, aggregateId: event.subject, messageId, deliveredVia: mailer.via,
  }, { signal });
  await mailer.send({ messageId, key, to: n.recipient, subject: n.subject, text: n.text });
}

/**
 * Who an order's email goes to: whoever its confirmation went to. Not there yet (an event of
 * another domain, payment's, can come before the order's own): the delivery fails and is tried
 * again later, as the consumer does with any failed delivery.
 */
async function recipientOf(orderId: string, { tx, signal }: HandlerContext): Promise<{ recipient: string; userId: string }> {
  const recipient = await recipientOfOrder(tx, orderId, { signal });
  if (recipient === undefined) throw new KitError(Code.FailedPrecondition, `no confirmation was sent for order ${orderId} yet`);
  return recipient;
}

/**
 * What notifications does with each event it subscribes to. With `payments` (a shop that takes
 * payment), a receipt when an order's payment is taken and a notice when it is given back; a
 * declined card is told at checkout, not by email.
 */
export function notificationHandlers(mailer: Mailer, { payments = false }: { payments?: boolean } = {}): Array<EventHandler<unknown>> {
  const paymentHandlers = [
    on(paymentCaptured, async (event, context) => {
      await notify(mailer, event, context, { ...await recipientOf(event.data.orderId, context), ...paymentReceipt(event.data) });
    }),
    on(paymentRefunded, async (event, context) => {
      await notify(mailer, event, context, { ...await recipientOf(event.data.orderId, context), ...refundNotice(event.data) });
    }),
  ];
  return [
    ...(payments ? paymentHandlers : []),
    on(orderCreated, async (event, context) => {
      await notify(mailer, event, context, { userId: event.data.userId, recipient: event.data.customer.email, ...orderConfirmation(event.data) });
    }),
    on(orderCancelled, async (event, context) => {
      // The consumer applies an order's events in order, so its confirmation has been handled.
      const { recipient } = await recipientOf(event.data.orderId, context);
      await notify(mailer, event, context, { userId: event.data.userId, recipient, ...orderCancellation(event.data) });
    }),
    on(userRegistered, async (event, context) => {
      await notify(mailer, event, context, { userId: event.data.userId, recipient: event.data.email, ...welcome(event.data) });
    }),
  ];
}
