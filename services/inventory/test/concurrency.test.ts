import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { createTestDatabase } from '@baton/kit/testing';
import { createClient, eventually, leaveAvailable, problemOf, type Client } from './support/http.ts';
import { startInventory, startInventoryFor, type TestInventory } from './support/inventory.ts';

// PostgreSQL runs the requests' transactions truly in parallel on a pool of connections, which is
// where overselling and deadlocks would show.
// Load shedding is off: these tests send bursts on purpose, and what they measure is the
// stock, not how many requests the limiter lets through.
const burstFriendly = { LOAD_SHEDDING: 'false' };

function countBy<T>(values: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

async function clientFor(t: TestContext): Promise<Client | undefined> {
  const inventory = await startInventoryFor(t, burstFriendly);
  if (inventory === undefined) return undefined;
  return createClient(inventory.url);
}

void describe('reservations under concurrency', () => {
  void it('sells the last 10 units to exactly 10 of 50 concurrent buyers, and never below zero', async (t) => {
    const client = await clientFor(t);
    if (client === undefined) return;
    const sku = 'TEA-GREEN-100G';
    await leaveAvailable(client, sku, 10);

    const answers = await Promise.all(Array.from({ length: 50 }, () => client.reserve([{ sku, quantity: 1 }])));

    assert.deepEqual(countBy(answers.map((a) => a.status)), new Map([[201, 10], [409, 40]]));
    for (const answer of answers.filter((a) => a.status === 409)) {
      assert.equal(problemOf(answer).reason, 'out_of_stock');
      assert.deepEqual(problemOf(answer).unavailable, [{ sku, requested: 1, available: 0 }]);
    }
    assert.equal(await client.available(sku), 0);
  });

  void it('takes the stock once when the same order is reserved 20 times at once', async (t) => {
    const client = await clientFor(t);
    if (client === undefined) return;
    const sku = 'TEA-EARLGREY-100G';
    const initial = await client.available(sku);
    const orderId = randomUUID();

    const answers = await Promise.all(Array.from({ length: 20 }, () => client.reserve([{ sku, quantity: 3 }], { orderId })));

    assert.deepEqual(countBy(answers.map((a) => a.status)), new Map([[201, 1], [200, 19]]));
    for (const answer of answers) assert.deepEqual(answer.body, answers[0]?.body);
    assert.equal(await client.available(sku), initial - 3);
  });

  void it('gives the stock back once when a reservation is released 10 times at once', async (t) => {
    const client = await clientFor(t);
    if (client === undefined) return;
    const sku = 'TEA-CHAMOMILE-50G';
    const initial = await client.available(sku);
    const orderId = randomUUID();
    assert.equal((await client.reserve([{ sku, quantity: 4 }], { orderId })).status, 201);

    const answers = await Promise.all(Array.from({ length: 10 }, () => client.release(orderId)));

    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.equal(answer.body.status, 'released');
    }
    assert.equal(await client.available(sku), initial);
  });

  void it('lets confirm and release race, and returns each reservation\'s stock exactly once', async (t) => {
    const client = await clientFor(t);
    if (client === undefined) return;
    const sku = 'MILK-FROTHER';
    const initial = await client.available(sku);
    const orderIds = Array.from({ length: 10 }, () => randomUUID());
    for (const orderId of orderIds) assert.equal((await client.reserve([{ sku, quantity: 1 }], { orderId })).status, 201);

    const answers = await Promise.all(orderIds.flatMap((orderId) => [client.confirm(orderId), client.release(orderId)]));

    // A confirm that lost the race to the release is a 409; a release always wins in the end.
    assert.ok(answers.every((a) => a.status === 200 || a.status === 409), `unexpected statuses: ${[...countBy(answers.map((a) => a.status))].join(' ')}`);
    for (const orderId of orderIds) assert.equal((await client.reservation(orderId)).body.status, 'released');
    assert.equal(await client.available(sku), initial);
  });

  void it('does not deadlock when multi-line reservations name the same SKUs in opposite orders', async (t) => {
    const client = await clientFor(t);
    if (client === undefined) return;
    const skus = ['BISCOTTI-ALMOND', 'CHOCOLATE-DARK-70', 'HONEY-ACACIA-250G'];
    const initial = new Map(await Promise.all(skus.map(async (sku) => [sku, await client.available(sku)] as const)));
    const requests = Array.from({ length: 40 }, (_, i) => {
      const lines = skus.map((sku) => ({ sku, quantity: 1 + (i % 3) }));
      return i % 2 === 0 ? lines : lines.reverse();
    });

    const answers = await Promise.all(requests.map((lines) => client.reserve(lines)));

    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.every((s) => s === 201 || s === 409), `unexpected statuses: ${[...countBy(statuses)].join(' ')}`);
    for (const sku of skus) {
      const taken = answers.reduce((sum, answer, i) => sum + (answer.status === 201 ? (requests[i]?.find((l) => l.sku === sku)?.quantity ?? 0) : 0), 0);
      assert.equal(await client.available(sku), (initial.get(sku) ?? 0) - taken, sku);
    }
  });
});

void describe('two replicas on one PostgreSQL database', () => {
  void it('return the stock of every expired reservation exactly once', async (t) => {
    const replicas: TestInventory[] = [];
    t.after(async () => {
      for (const replica of replicas) await replica.stop();
    });
    const url = await createTestDatabase(t);
    if (url === undefined) return;
    const environment = { ...burstFriendly, DATABASE_URL: url, RESERVATION_SWEEP_INTERVAL_MS: '20', RESERVATION_SWEEP_BATCH_SIZE: '3' };
    // One after the other: the first applies the migrations, the second finds them applied.
    replicas.push(await startInventory(environment));
    replicas.push(await startInventory(environment));
    const clients = replicas.map((replica) => createClient(replica.url));
    const [one, two] = clients;
    assert.ok(one && two);
    const sku = 'GIFT-CARD-25';
    const initial = await one.available(sku);
    const orderIds = Array.from({ length: 30 }, () => randomUUID());

    const answers = await Promise.all(orderIds.map((orderId, i) => (i % 2 === 0 ? one : two).reserve([{ sku, quantity: 2 }], { orderId, ttlSeconds: 1 })));
    assert.ok(answers.every((answer) => answer.status === 201));

    // Done when the database itself says every one expired: then no sweeper has anything left
    // to return, and the stock must be back exactly once.
    const db = replicas[0]?.service.db;
    assert.ok(db);
    await eventually(async () => {
      const { rows } = await db.query<{ expired: number }>(
        `select count(*)::int as expired from reservations where status = 'expired' and order_id = any($1::uuid[])`, [orderIds]);
      return rows[0]?.expired === orderIds.length;
    }, { what: 'every reservation expiring' });
    assert.equal(await one.available(sku), initial);
    assert.equal(await two.available(sku), initial);
  });
});
