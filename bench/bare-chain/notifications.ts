// The bare chain's notifications: the work services/notifications does for each order event,
// and nothing else. It reads orders' outbox through orders' `GET /events` (as Baton's reads
// orders' event feed, each service keeping its own database), and for each event stores the
// notification row (the statement of services/notifications/src/notifications/repository.ts
// insertNotification; for a cancel first recipientOfOrder's read) and writes the message as an
// .eml file composed by nodemailer's MailComposer, as Baton's file mailer does.
//
// No inbox (a redelivered event would send its mail again), no transaction around the row and
// the mail, no durable position (a restart reads the feed from the start), no contract check, no
// retry: a failed event is skipped. A page with nothing new is followed by a pause of
// `idlePollMs`, a plain poll (Baton's feed holds the read open until an event commits instead).
// Positions are read as the outbox's own sequence, so an event whose transaction commits after a
// later one's can be passed over: a bare chain's bug, which costs it no work.
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import MailComposer from 'nodemailer/lib/mail-composer';
import { Pool } from 'undici';
import { yieldTheCpu } from '../../packages/kit/src/service/yield-the-cpu.ts';
import { exitWithTheBench } from './orphan.ts';
import { openPool } from './pool.ts';

const pool = openPool();
const orders = new Pool(process.env.ORDERS_URL ?? '', { connections: 1 });
const mailDir = process.env.MAIL_DIR ?? '';
const from = 'Baton shop <shop@baton.invalid>';
const idlePollMs = 50;

interface OutboxEvent {
  id: string;
  type: string;
  subject: string;
  data: {
    orderId: string; userId: string;
    customer?: { email: string; name: string };
    items?: Array<{ sku: string; quantity: number; priceCents: number }>;
    totalCents?: number; currency?: string;
  };
}

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

/** The subject and text of services/notifications/src/notifications/messages.ts, for the two order events. */
function messageOf(event: OutboxEvent): { subject: string; text: string } | undefined {
  const { data } = event;
  if (event.type === 'baton.orders.order.created') {
    const currency = data.currency ?? 'EUR';
    const lines = (data.items ?? []).map((item) => `  ${item.quantity} × ${item.sku} at ${money(item.priceCents, currency)} = ${money(item.quantity * item.priceCents, currency)}`);
    return {
      subject: `Your Baton order ${data.orderId.slice(0, 8)} is confirmed`,
      text: [`Hello ${data.customer?.name ?? ''},`, '', 'thank you for your order:', '', ...lines, '', `Total: ${money(data.totalCents ?? 0, currency)}`, `Order: ${data.orderId}`].join('\n'),
    };
  }
  if (event.type === 'baton.orders.order.cancelled') {
    return {
      subject: `Your Baton order ${data.orderId.slice(0, 8)} was cancelled`,
      text: [`Your order ${data.orderId} was cancelled as you asked.`, 'Nothing will be charged for it; anything taken for it is given back.'].join('\n'),
    };
  }
  return undefined;
}

async function handle(event: OutboxEvent): Promise<void> {
  const message = messageOf(event);
  if (message === undefined) return;
  let recipient = event.data.customer?.email;
  if (recipient === undefined) {
    const { rows } = await pool.query<{ recipient: string; user_id: string }>(
      'select recipient, user_id from notifications where aggregate_id = $1 and event_type = $2', [event.data.orderId, 'baton.orders.order.created']);
    recipient = rows[0]?.recipient;
    if (recipient === undefined) return;
  }
  const messageId = `<${event.id}@notifications.baton.invalid>`;
  await pool.query(
    `insert into notifications (id, user_id, channel, recipient, subject, body, event_id, event_type, aggregate_id, message_id, delivered_via)
     values ($10, $1, 'email', $2, $3, $4, $5, $6, $7, $8, $9)`,
    [event.data.userId, recipient, message.subject, message.text, event.id, event.type, event.subject, messageId, 'file', event.id]);
  const mail = await new MailComposer({ from, to: recipient, subject: message.subject, text: message.text.replace(/\r?\n/g, '\r\n'), messageId }).compile().build();
  // Synchronously, as Baton's file mailer writes (its comment says why), so the two sides pay alike.
  writeFileSync(join(mailDir, `${event.id}.eml`), mail);
}

await mkdir(mailDir, { recursive: true });
// At the niceness Baton's notifications runs at (its PROCESS_NICENESS default): an operating
// system setting, not work, so the two sides' emails wait for their checkouts alike. The kit's
// own function, which needs nothing but Node.
await yieldTheCpu(10, { warn: (fields, message) => console.error(message, JSON.stringify(fields)) });
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
});
exitWithTheBench();
// Ready at once: it listens on nothing (start-bare-chain.ts waits for this line).
console.log(JSON.stringify({ port: null }));

let after = 0;
while (!stopping) {
  try {
    const res = await orders.request({ method: 'GET', path: `/events?after=${after}` });
    const page = (await res.body.json()) as Array<{ position: string; event: OutboxEvent }>;
    for (const { position, event } of page) {
      await handle(event).catch(() => {});
      after = Number(position);
    }
    if (page.length === 0) await sleep(idlePollMs);
  } catch {
    await sleep(idlePollMs);
  }
}
await orders.close();
await pool.end();
process.exit(0);
