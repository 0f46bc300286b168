import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import { startService, type RunningService } from '@baton/kit/service';
import { createSilentLogger, createSuiteDatabase, sendRaw } from '@baton/kit/testing';
import { readConfig } from '../src/config.ts';
import { providerService } from '../src/service.ts';

const secretKey = `sk_test_${randomUUID().replaceAll('-', '')}`;
const webhookSecret = `whsec_${randomUUID().replaceAll('-', '')}`;
const adminToken = `admin-${randomUUID()}`;

/** A webhook endpoint: keeps every delivery, and fails the first `failFirst` of them with a 500. */
async function startEndpoint(failFirst: number) {
  const received: Array<{ body: string; signature: string }> = [];
  let failures = failFirst;
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (failures > 0) {
        failures -= 1;
        response.writeHead(500).end();
        return;
      }
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: String(request.headers['stripe-signature']) });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks`, received,
    failuresLeft: () => failures,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// The provider in this process, on its own database, and, as its client, Stripe's own Node
// library (`stripe` on npm) pointed at it: what that library reads as Stripe's answers, the
// provider speaks. No line of the client is ours.
void describe('the payment provider, through Stripe\'s own client library', () => {
  let provider: RunningService;
  let stripe: Stripe;
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  const drops: Array<() => unknown> = [];

  before(async () => {
    endpoint = await startEndpoint(2);
    const databaseUrl = await createSuiteDatabase({ after: (fn) => void drops.push(fn) });
    provider = await startService(providerService, readConfig({
      HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', ADMIN_TOKEN: adminToken, DATABASE_URL: databaseUrl,
      SECRET_KEY: secretKey, WEBHOOK_URL: endpoint.url, WEBHOOK_SECRET: webhookSecret, WEBHOOK_DUPLICATE_PERCENT: '100', WEBHOOK_MAX_DELAY_MS: '100',
      // A charge left unanswered is given up by its caller first; this is only the provider's own net.
      REQUEST_DEADLINE_MS: '10000',
    }), { logger: createSilentLogger('provider') });
    const { port } = new URL(provider.url);
    stripe = new Stripe(secretKey, { host: '127.0.0.1', port: Number(port), protocol: 'http', maxNetworkRetries: 0, telemetry: false, timeout: 5_000 });
  });
  after(async () => {
    await provider?.shutdown('tests over');
    await endpoint?.close();
    for (const drop of drops) await drop();
  });

  const setFaults = async (faults: Record<string, number>) => {
    const response = await fetch(`${provider.adminUrl}/admin/provider/faults`, {
      method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(faults),
    });
    assert.equal(response.status, 200, await response.text());
  };
  const authorize = (paymentMethod: string, orderId = randomUUID(), idempotencyKey = randomUUID()) => stripe.paymentIntents.create({
    amount: 4980, currency: 'eur', payment_method: paymentMethod, confirm: true, capture_method: 'manual', metadata: { order_id: orderId },
  }, { idempotencyKey });

  test('pm_card_visa is authorised, held, then captured; its brand and last four are on its charge', async () => {
    const held = await authorize('pm_card_visa');
    assert.equal(held.status, 'requires_capture');
    assert.equal(held.amount_capturable, 4980);
    const captured = await stripe.paymentIntents.capture(held.id);
    assert.equal(captured.status, 'succeeded');
    assert.equal(captured.amount_received, 4980);
    const read = await stripe.paymentIntents.retrieve(held.id, { expand: ['latest_charge'] });
    const charge = read.latest_charge as Stripe.Charge;
    assert.deepEqual([charge.payment_method_details?.card?.brand, charge.payment_method_details?.card?.last4], ['visa', '4242']);
  });

  test('the declining test cards are a 402 card_error with Stripe\'s decline codes, and nothing is held', async () => {
    for (const [card, declineCode] of [['pm_card_chargeDeclined', 'generic_decline'], ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds']] as const) {
      const error = await authorize(card).then(() => assert.fail(`${card} was charged`), (e: unknown) => e);
      assert.ok(error instanceof Stripe.errors.StripeCardError, String(error));
      assert.equal(error.statusCode, 402);
      assert.equal(error.code, 'card_declined');
      assert.equal(error.decline_code, declineCode);
      const intent = error.payment_intent!;
      assert.equal(intent.status, 'requires_payment_method');
      assert.equal(intent.amount_capturable, 0);
    }
    const unknown = await authorize('pm_card_nothing').then(() => assert.fail('an unknown card was charged'), (e: unknown) => e);
    assert.ok(unknown instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(unknown.code, 'resource_missing');
  });

  test('an Idempotency-Key sent again gets the first answer, marked replayed; with other parameters it is refused; 10 at once make one intent', async () => {
    const key = randomUUID();
    const orderId = randomUUID();
    const first = await authorize('pm_card_visa', orderId, key);
    const again = await authorize('pm_card_visa', orderId, key);
    assert.equal(again.id, first.id);
    assert.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
    const other = await authorize('pm_card_mastercard', orderId, key).then(() => assert.fail('reused'), (e: unknown) => e);
    assert.ok(other instanceof Stripe.errors.StripeIdempotencyError, String(other));

    const racedKey = randomUUID();
    const raced = await Promise.all(Array.from({ length: 10 }, () => authorize('pm_card_visa', orderId, racedKey)));
    assert.equal(new Set(raced.map((intent) => intent.id)).size, 1);
  });

  test('cancel before capture releases the hold; a refund gives back what was captured, and never more', async () => {
    const held = await authorize('pm_card_visa');
    const cancelled = await stripe.paymentIntents.cancel(held.id);
    assert.equal(cancelled.status, 'canceled');
    const late = await stripe.paymentIntents.capture(held.id).then(() => assert.fail('captured after cancel'), (e: unknown) => e);
    assert.ok(late instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(late.code, 'payment_intent_unexpected_state');

    const paid = await stripe.paymentIntents.capture((await authorize('pm_card_visa')).id);
    const part = await stripe.refunds.create({ payment_intent: paid.id, amount: 1000 });
    assert.deepEqual([part.status, part.amount], ['succeeded', 1000]);
    const rest = await stripe.refunds.create({ payment_intent: paid.id });
    assert.equal(rest.amount, 3980);
    const more = await stripe.refunds.create({ payment_intent: paid.id, amount: 1 }).then(() => assert.fail('refunded twice'), (e: unknown) => e);
    assert.ok(more instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(more.code, 'charge_already_refunded');
    const refunds = await stripe.refunds.list({ payment_intent: paid.id });
    assert.deepEqual(refunds.data.map((r) => r.amount).sort((a, b) => a - b), [1000, 3980]);
  });

  test('the list pages newest first with starting_after, each intent carrying its order id in metadata', async () => {
    const orders = [randomUUID(), randomUUID(), randomUUID()];
    for (const orderId of orders) await authorize('pm_card_visa', orderId);
    const seen: Stripe.PaymentIntent[] = [];
    for await (const intent of stripe.paymentIntents.list({ limit: 2 })) seen.push(intent);
    assert.deepEqual(seen.slice(0, 3).map((intent) => intent.metadata.order_id), orders.toReversed());
    assert.equal(new Set(seen.map((intent) => intent.id)).size, seen.length, 'no intent on two pages');
    const all = await stripe.paymentIntents.list({ limit: 100 });
    assert.equal(all.data.length, seen.length, 'auto-pagination saw every intent once');
  });

  test('refunds page the same way: Stripe\'s auto-pagination ends, each refund once, and one intent\'s refunds apart', async () => {
    const intents = [];
    for (let i = 0; i < 3; i++) {
      const held = await authorize('pm_card_visa');
      intents.push(await stripe.paymentIntents.capture(held.id));
    }
    for (const intent of intents) for (const amount of [100, 200]) await stripe.refunds.create({ payment_intent: intent.id, amount });
    const seen: Stripe.Refund[] = [];
    for await (const refund of stripe.refunds.list({ limit: 2 })) {
      seen.push(refund);
      assert.ok(seen.length <= 1_000, 'the pages end');
    }
    assert.equal(new Set(seen.map((r) => r.id)).size, seen.length, 'no refund on two pages');
    assert.equal(seen.length, (await stripe.refunds.list({ limit: 100 })).data.length, 'auto-pagination saw every refund once');
    const ofOne = [];
    for await (const refund of stripe.refunds.list({ payment_intent: intents[1]!.id, limit: 1 })) ofOne.push(refund);
    assert.deepEqual(ofOne.map((r) => [r.payment_intent, r.amount]), [[intents[1]!.id, 200], [intents[1]!.id, 100]]);
  });

  test('parameters in any other encoding than a form are refused by name, not misread', async () => {
    const response = await fetch(`${provider.url}/v1/payment_intents`, {
      method: 'POST', headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ amount: 100, currency: 'eur' }),
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'invalid_content_type');
  });

  test('a wrong secret key is refused', async () => {
    const stranger = new Stripe('sk_test_not_the_key_at_all', { host: '127.0.0.1', port: Number(new URL(provider.url).port), protocol: 'http', maxNetworkRetries: 0, telemetry: false });
    const error = await stranger.paymentIntents.list().then(() => assert.fail('listed'), (e: unknown) => e);
    assert.ok(error instanceof Stripe.errors.StripeAuthenticationError, String(error));
  });

  test('without the key, every /v1 route is 401 however its path is spelt: encoded letters reach the same route and the same check', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const tries = [
      { method: 'GET', path: '/v1/payment_intents' },
      { method: 'GET', path: '/%761/payment_intents' },
      { method: 'GET', path: '/v%31/payment_intents' },
      { method: 'POST', path: '/%761/refunds', headers: form, body: 'payment_intent=pi_anything&amount=100' },
      { method: 'POST', path: '/%761/payment_intents', headers: form, body: 'amount=5000&currency=eur&payment_method=pm_card_visa&confirm=true' },
    ];
    for (const attempt of tries) {
      const answer = await sendRaw(provider.url, attempt);
      assert.equal(answer.status, 401, `${attempt.method} ${attempt.path}: ${answer.body}`);
    }
  });

  test('a charge made and never answered: the caller times out, and the same key asked again finds the one charge', async () => {
    await setFaults({ hangAfterCharge: 1 });
    const key = randomUUID();
    const orderId = randomUUID();
    const impatient = new Stripe(secretKey, { host: '127.0.0.1', port: Number(new URL(provider.url).port), protocol: 'http', maxNetworkRetries: 0, telemetry: false, timeout: 500 });
    const lost = await impatient.paymentIntents.create({ amount: 4980, currency: 'eur', payment_method: 'pm_card_visa', confirm: true, capture_method: 'manual', metadata: { order_id: orderId } }, { idempotencyKey: key })
      .then(() => assert.fail('answered'), (e: unknown) => e);
    assert.ok(lost instanceof Stripe.errors.StripeConnectionError, String(lost));
    const found = await authorize('pm_card_visa', orderId, key);
    assert.equal(found.status, 'requires_capture');
    assert.equal(found.lastResponse.headers['idempotent-replayed'], 'true');
    const charged = (await stripe.paymentIntents.list({ limit: 100 })).data.filter((intent) => intent.metadata.order_id === orderId);
    assert.deepEqual(charged.map((intent) => intent.id), [found.id], 'charged once');
  });

  test('webhooks: each outcome arrives signed (Stripe\'s library verifies it), after failures, twice here, and a forged one is refused', async () => {
    const held = await authorize('pm_card_visa');
    await stripe.paymentIntents.capture(held.id);
    const forId = (type: string) => endpoint.received
      .map(({ body, signature }) => stripe.webhooks.constructEvent(body, signature, webhookSecret))
      .filter((event) => event.type === type && (event.data.object as { id: string }).id === held.id);
    // Each event comes in its own time: one the endpoint failed waits out its backoff (500 ms,
    // then 1 s), and may arrive after both copies of a later one. So the wait is for all of them.
    const arrived = () => forId('payment_intent.succeeded').length >= 2 && forId('payment_intent.amount_capturable_updated').length >= 1;
    for (const until = Date.now() + 10_000; !arrived() && Date.now() < until;) await sleep(50);
    assert.equal(forId('payment_intent.amount_capturable_updated').length >= 1, true);
    const succeeded = forId('payment_intent.succeeded');
    assert.equal(succeeded.length, 2, 'delivered twice (WEBHOOK_DUPLICATE_PERCENT=100), the same event');
    assert.equal(succeeded[0]!.id, succeeded[1]!.id);
    assert.equal(endpoint.failuresLeft(), 0, 'the endpoint failed its first deliveries, and they came again');
    const { rows: [retried] } = await provider.db.query<{ n: number }>('select count(*)::int as n from events where attempts > 2');
    assert.ok(retried!.n >= 1, 'an event was tried more than its two copies');
    const { body, signature } = endpoint.received[0]!;
    assert.throws(() => stripe.webhooks.constructEvent(body.replace('"livemode":false', '"livemode":true'), signature, webhookSecret), Stripe.errors.StripeSignatureVerificationError);
  });
});
