import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { SMTPServer } from 'smtp-server';
import { natsNames } from '@baton/kit/messaging';
import { findFreePort, useTestNats } from '@baton/kit/testing';
import { createShopClient } from './shop-client.ts';
import { lastInFirstOut, notificationsOf, startEventShop, waitForNotifications } from './events-support.ts';

/** A real SMTP server in this process (the `smtp-server` package) that keeps what it receives. */
async function startSmtp(t: TestContext, { refuse }: { refuse: (address: string) => boolean }) {
  const received: Array<{ to: string[]; raw: string }> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (refuse(address.address)) {
        callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  const port = await findFreePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `smtp://127.0.0.1:${port}`, received, to: (address: string) => received.filter((m) => m.to.includes(address)) };
}

void test('email reaches a real SMTP server; a poison event is dead-lettered after N attempts with its error, and a replay after the fix delivers it once', async (t) => {
  const broker = await useTestNats(t);
  if (broker === undefined) return;
  let mailboxFixed = false;
  const smtp = await startSmtp(t, { refuse: (address) => address.startsWith('poison') && !mailboxFixed });
  const shop = await startEventShop(lastInFirstOut(t), {
    transport: 'nats', broker,
    serviceEnv: { notifications: { SMTP_URL: smtp.url, MESSAGING_MAX_ATTEMPTS: '3', MESSAGING_RETRY_BASE_MS: '100' } },
  });
  const api = createShopClient(shop.gateway);
  // The dead-letter API is on notifications' admin listener, behind its own admin token.
  const admin = (method: string, path: string) => fetch(new URL(path, shop.stack.adminUrl('notifications')), { method, headers: { authorization: `Bearer ${shop.stack.adminToken('notifications')}` } });

  // The ordinary path: a welcome and an order confirmation, over SMTP, with a Message-ID from the event.
  const ada = await api.signUp('Ada');
  const order = await api.order(ada.token, [{ sku: 'COFFEE-250G', quantity: 2 }]);
  assert.equal(order.status, 201);
  await waitForNotifications(api, [ada.token], ([list]) => list?.length === 2);
  for (let i = 0; i < 100 && smtp.to(ada.email).length < 2; i++) await sleep(50);
  const mails = smtp.to(ada.email);
  assert.equal(mails.length, 2);
  assert.ok(mails.some((m) => /Subject: Welcome to Baton/.test(m.raw)));
  assert.ok(mails.some((m) => /is confirmed/.test(m.raw) && m.raw.includes(order.body.id)));
  assert.ok(mails.every((m) => /Message-ID:\s+<[0-9a-f-]{36}@notifications\.baton\.invalid>/i.test(m.raw)));

  // The poison: the mailbox of this account refuses mail, so its welcome fails every attempt.
  const poison = await api.signUp('Poison');
  let letters: Array<{ id: number; eventId: string; type: string; error: string; attempts: number }> = [];
  for (let i = 0; i < 200 && letters.length === 0; i++) {
    letters = ((await (await admin('GET', '/admin/dead-letters')).json()) as { items: typeof letters }).items;
    if (letters.length === 0) await sleep(100);
  }
  assert.equal(letters.length, 1);
  const [letter] = letters;
  assert.equal(letter?.type, 'user.registered');
  assert.equal(letter?.attempts, 3);
  assert.match(letter?.error ?? '', /550/);
  assert.equal(smtp.to(poison.email).length, 0);
  assert.deepEqual(await notificationsOf(api, poison.token), [], 'nothing was recorded as sent');
  assert.equal((await fetch(new URL('/admin/dead-letters', shop.stack.adminUrl('notifications')))).status, 401, 'the admin API needs the admin token');
  const withOrdersToken = await fetch(new URL('/admin/dead-letters', shop.stack.adminUrl('notifications')), { headers: { authorization: `Bearer ${shop.stack.adminToken('orders')}` } });
  assert.equal(withOrdersToken.status, 401, 'another service\'s admin token does not open it');

  // It is on the broker's dead-letter subject too, with its error.
  const nc = await connect({ servers: broker.url });
  try {
    const jsm = await jetstreamManager(nc);
    const names = natsNames(broker.namespace);
    const held = await jsm.streams.getMessage(names.deadLetterStream, { last_by_subj: names.deadLetterSubject('notifications', 'user.registered') });
    assert.equal(held?.json<{ id: string }>().id, letter?.eventId);
    assert.match(held?.header.get('Baton-Error') ?? '', /550/);
  } finally {
    await nc.close();
  }

  mailboxFixed = true;
  const replayed = await admin('POST', `/admin/dead-letters/${letter!.id}/replay`);
  assert.equal(replayed.status, 200);
  assert.equal(((await replayed.json()) as { result: string }).result, 'handled');
  const again = await admin('POST', `/admin/dead-letters/${letter!.id}/replay`);
  assert.equal(((await again.json()) as { result: string }).result, 'duplicate');
  assert.deepEqual(((await (await admin('POST', '/admin/dead-letters/replay')).json()) as { results: unknown[] }).results, [], 'nothing else is pending');
  await sleep(500);
  assert.equal(smtp.to(poison.email).length, 1, 'the replay delivered it once');
  assert.equal((await notificationsOf(api, poison.token)).length, 1);
  assert.deepEqual(((await (await admin('GET', '/admin/dead-letters')).json()) as { items: unknown[] }).items, []);
});
