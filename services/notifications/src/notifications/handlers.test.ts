import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { userRegistered } from '@baton/contracts/events';
import { KitError } from '@baton/kit/errors';
import type { CloudEvent, HandlerContext } from '@baton/kit/messaging';
import { createSilentLogger } from '@baton/kit/testing';
import type { Mailer, OutgoingMessage } from '../mail/mailer.ts';
import { notificationHandlers } from './handlers.ts';

void test('an event whose id is not a UUID is refused before it reaches the notifications table, a header or a file', async () => {
  const sent: OutgoingMessage[] = [];
  const mailer: Mailer = { via: 'file', send: async (message) => { sent.push(message); }, close: () => {} };
  const queries: string[] = [];
  const context = {
    tx: { query: async (text: string) => { queries.push(text); return { rows: [], rowCount: 0 }; } },
    signal: new AbortController().signal, attempt: 1, logger: createSilentLogger(),
  } as unknown as HandlerContext;
  const welcome = notificationHandlers(mailer).find((h) => h.contract.type === userRegistered.type);
  assert.ok(welcome);
  const event = (id: string): CloudEvent => ({
    specversion: '1.0', id, source: '/baton/users', type: 'user.registered', subject: randomUUID(), time: new Date().toISOString(),
    datacontenttype: 'application/json', dataschema: 'urn:baton:event:user.registered:1', subjectseq: 1, traceparent: '',
    data: { userId: randomUUID(), email: 'ada@example.com', name: 'Ada', registeredAt: new Date().toISOString() },
  });

  for (const id of ['../../x', `${randomUUID()}\r\nBcc: all@example.com`, '\u0000', 'x'.repeat(10_000)]) {
    await assert.rejects(welcome.handle(event(id), context), (error: unknown) => error instanceof KitError && error.reason === 'invalid_event');
  }
  assert.equal(queries.length, 0, 'nothing was written');
  assert.equal(sent.length, 0, 'nothing was sent');

  const id = randomUUID();
  await welcome.handle(event(id), context);
  assert.equal(sent[0]?.key, id);
  assert.equal(sent[0]?.messageId, `<${id}@notifications.baton.invalid>`);
});
