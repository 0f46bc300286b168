import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { findTrailerError } from '@connectrpc/connect/protocol-grpc';
import { ErrorDetailSchema } from '@baton/contracts/kit/v1';
import { testIdentity } from '@baton/kit/testing';
import { readConfig } from '../src/config.ts';
import { failure, inFiveSeconds, inventoryStubs, unary } from './support/grpc-stub.ts';
import { createClient, problemOf, type Client } from './support/http.ts';
import { startInventory, type TestInventory } from './support/inventory.ts';

const maxTtlSeconds = 1_200;
const sku = 'MUG-STONEWARE';

/** The field violations a Baton server put in a stock client's error (its grpc-status-details-bin trailer). */
function fieldsOf(error: grpc.ServiceError): string[] {
  const trailer = new Headers({ 'grpc-status': String(error.code), 'grpc-message': encodeURIComponent(error.details) });
  for (const value of error.metadata.get('grpc-status-details-bin')) {
    trailer.append('grpc-status-details-bin', Buffer.from(value as Buffer).toString('base64').replace(/=+$/, ''));
  }
  return findTrailerError(trailer)?.findDetails(ErrorDetailSchema).flatMap((detail) => detail.fields.map((f) => f.field)) ?? [];
}

void describe('a reservation holds its stock for at most RESERVATION_MAX_TTL_SECONDS', () => {
  let inventory: TestInventory;
  let client: Client;

  before(async () => {
    inventory = await startInventory({ RESERVATION_MAX_TTL_SECONDS: String(maxTtlSeconds) });
    client = createClient(inventory.url);
  });
  after(async () => {
    await inventory?.stop();
  });

  void it('over HTTP: one second past it is a 400 problem naming body.ttlSeconds, taking no stock; the maximum itself holds', async () => {
    const initial = await client.available(sku);
    const refused = await client.reserve([{ sku, quantity: 1 }], { ttlSeconds: maxTtlSeconds + 1 });
    assert.equal(refused.status, 400);
    assert.match(refused.contentType, /^application\/problem\+json/);
    const problem = problemOf(refused);
    assert.equal(problem.code, 'invalid_argument');
    assert.deepEqual(problem.errors?.map((e) => e.field), ['body.ttlSeconds']);
    assert.match(problem.errors?.[0]?.message ?? '', /at most 1200/);
    assert.equal(await client.available(sku), initial);

    const held = await client.reserve([{ sku, quantity: 1 }], { ttlSeconds: maxTtlSeconds });
    assert.equal(held.status, 201);
    const holdSeconds = (Date.parse(held.body.expiresAt) - Date.now()) / 1000;
    assert.ok(holdSeconds > maxTtlSeconds - 60 && holdSeconds <= maxTtlSeconds + 1, `held for ${holdSeconds} s`);
  });

  void it('over gRPC (a stock grpc-js client): past it is INVALID_ARGUMENT naming ttlSeconds, taking no stock', async (t) => {
    const stubs = inventoryStubs(inventory.service.grpcUrl ?? assert.fail('no gRPC listener'));
    t.after(() => stubs.close());
    const initial = await client.available(sku);
    const request = { orderId: randomUUID(), items: [{ sku, quantity: 1 }] };

    const refused = await failure((cb) => stubs.inventory.CreateReservation({ ...request, ttlSeconds: 86_400 }, inFiveSeconds(), cb));
    assert.equal(refused.code, grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(fieldsOf(refused), ['ttlSeconds']);
    assert.equal(await client.available(sku), initial);

    const held = await unary<{ created: boolean }>((cb) => stubs.inventory.CreateReservation({ ...request, ttlSeconds: maxTtlSeconds }, inFiveSeconds(), cb));
    assert.equal(held.created, true);
  });

  void it('refuses to start with a maximum past 4 hours, or a default TTL past the maximum', () => {
    const base = { DATABASE_URL: 'postgres://localhost/x', USERS_URLS: 'http://127.0.0.1:9', ...testIdentity.env('inventory') };
    assert.throws(() => readConfig({ ...base, RESERVATION_MAX_TTL_SECONDS: '86400' }), /RESERVATION_MAX_TTL_SECONDS/);
    assert.throws(() => readConfig({ ...base, RESERVATION_MAX_TTL_SECONDS: '300', RESERVATION_TTL_SECONDS: '900' }), /RESERVATION_TTL_SECONDS/);
    assert.equal(readConfig(base).RESERVATION_MAX_TTL_SECONDS, 3_600);
  });
});
