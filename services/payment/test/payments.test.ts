import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import Stripe from 'stripe';
import { protoRoot } from '@baton/contracts/proto';
import { startService, type RunningService } from '@baton/kit/service';
import { createSilentLogger, createSuiteDatabase, findFreePort, serviceTokenInterceptor, testIdentity } from '@baton/kit/testing';
import { readConfig as readProviderConfig } from '../../provider/src/config.ts';
import { providerService } from '../../provider/src/service.ts';
import { readConfig } from '../src/config.ts';
import { paymentService } from '../src/service.ts';

const secretKey = `sk_test_${randomUUID().replaceAll('-', '')}`;
const webhookSecret = `whsec_${randomUUID().replaceAll('-', '')}`;
const adminToken = `admin-${randomUUID()}`;

interface Payment { orderId: string; status: string; amountCents: number; currency: string; card: { brand: string; last4: string } | null; declineCode: string | null; refundedCents: number; providerPaymentId: string | null }
interface Intent { id: string; status: string; amount_received: number; amount_capturable: number; metadata: { order_id?: string } }

// The payment service and the provider, each in this process on its own database, over real
// HTTP both ways: payment calls the provider's API, the provider posts its webhooks to payment.
// Called as orders calls it, with orders' service token.
void describe('payments through the provider', () => {
  let payment: RunningService;
  let provider: RunningService;
  const drops: Array<() => unknown> = [];

  before(async () => {
    const providerPort = await findFreePort();
    payment = await startService(paymentService, readConfig({
      ...testIdentity.env('payment'), HOST: '127.0.0.1', PORT: '0', GRPC_PORT: '0', DATABASE_URL: await createSuiteDatabase({ after: (fn) => void drops.push(fn) }),
      PROVIDER_URL: `http://127.0.0.1:${providerPort}`, PROVIDER_SECRET_KEY: secretKey, PROVIDER_WEBHOOK_SECRET: webhookSecret, PROVIDER_TIMEOUT_MS: '700',
    }), { logger: createSilentLogger('payment') });
    provider = await startService(providerService, readProviderConfig({
      HOST: '127.0.0.1', PORT: String(providerPort), ADMIN_PORT: '0', ADMIN_TOKEN: adminToken, DATABASE_URL: await createSuiteDatabase({ after: (fn) => void drops.push(fn) }),
      SECRET_KEY: secretKey, WEBHOOK_URL: `${payment.url}/webhooks/provider`, WEBHOOK_SECRET: webhookSecret, WEBHOOK_DUPLICATE_PERCENT: '100', WEBHOOK_MAX_DELAY_MS: '200',
    }), { logger: createSilentLogger('provider') });
  });
  after(async () => {
    await provider?.shutdown('tests over');
    await payment?.shutdown('tests over');
    for (const drop of drops) await drop();
  });

  const call = async <T = Payment>(path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${payment.url}${path}`, {
      method: body === undefined && !path.match(/\/(authorize|capture|void|refund)$/) ? 'GET' : 'POST',
      headers: { ...await testIdentity.headers('orders', 'payment'), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() as T };
  };
  const authorize = (orderId: string, method = 'pm_card_visa', amountCents = 4980) => call(`/v1/payments/${orderId}/authorize`, { amountCents, currency: 'EUR', method });
  /** The provider's ledger for one order: what it holds and took for it, by its metadata. */
  const intentsOf = async (orderId: string) => {
    const response = await fetch(`${provider.url}/v1/payment_intents?limit=100`, { headers: { authorization: `Bearer ${secretKey}` } });
    return ((await response.json()) as { data: Intent[] }).data.filter((intent) => intent.metadata.order_id === orderId);
  };
  const setFaults = (faults: Record<string, number>) => fetch(`${provider.adminUrl}/admin/provider/faults`, {
    method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(faults),
  }).then((r) => assert.equal(r.status, 200));

  test('a good card is held, captured, then refunded; the provider\'s ledger agrees at each step, and no card number is kept', async () => {
    const orderId = randomUUID();
    const held = await authorize(orderId);
    assert.equal(held.status, 200, JSON.stringify(held.body));
    assert.deepEqual([held.body.status, held.body.card], ['authorized', { brand: 'visa', last4: '4242' }]);
    assert.deepEqual((await intentsOf(orderId)).map((i) => [i.status, i.amount_capturable]), [['requires_capture', 4980]]);
    const captured = await call(`/v1/payments/${orderId}/capture`);
    assert.equal(captured.body.status, 'captured');
    assert.deepEqual((await intentsOf(orderId)).map((i) => [i.status, i.amount_received]), [['succeeded', 4980]]);
    const refunded = await call(`/v1/payments/${orderId}/refund`);
    assert.deepEqual([refunded.body.status, refunded.body.refundedCents], ['refunded', 4980]);
    // Every step sent again answers the payment as it is, and asks nothing new of the provider.
    assert.equal((await call(`/v1/payments/${orderId}/refund`)).body.status, 'refunded');
    assert.equal((await call(`/v1/payments/${orderId}/capture`)).body.status, 'refunded');
    const { rows } = await payment.db.query<Record<string, unknown>>('select * from payments where order_id = $1', [orderId]);
    assert.deepEqual(Object.keys(rows[0]!).filter((column) => /card|pan|number|cvc/i.test(column)).sort(), ['card_brand', 'card_last4']);
  });

  test('a part refunded at the provider (its dashboard) is kept as a part: a refund then gives back the rest, never the whole again', async () => {
    const orderId = randomUUID();
    await authorize(orderId);
    await call(`/v1/payments/${orderId}/capture`);
    const providerId = (await call(`/v1/payments/${orderId}`)).body.providerPaymentId!;
    const partial = await fetch(`${provider.url}/v1/refunds`, {
      method: 'POST', headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/x-www-form-urlencoded' }, body: `payment_intent=${providerId}&amount=1000`,
    });
    assert.equal(partial.status, 200, await partial.text());
    let seen = await call(`/v1/payments/${orderId}`);
    for (const until = Date.now() + 10_000; seen.body.refundedCents !== 1000 && Date.now() < until; await sleep(50)) seen = await call(`/v1/payments/${orderId}`);
    assert.deepEqual([seen.body.status, seen.body.refundedCents], ['captured', 1000], 'the webhook\'s refund, as a part');
    const refunded = await call(`/v1/payments/${orderId}/refund`);
    assert.deepEqual([refunded.body.status, refunded.body.refundedCents], ['refunded', 4980]);
    const refunds = async () => (await provider.db.query<{ amount: number }>('select amount from refunds where payment_intent = $1 order by amount', [providerId])).rows.map((r) => Number(r.amount));
    assert.deepEqual(await refunds(), [1000, 3980], 'the rest given back, and nothing more');
    // The webhooks of both refunds, each delivered twice, change nothing more.
    await sleep(500);
    assert.deepEqual([(await call(`/v1/payments/${orderId}`)).body.status, (await call(`/v1/payments/${orderId}`)).body.refundedCents], ['refunded', 4980]);
    assert.deepEqual(await refunds(), [1000, 3980]);
  });

  test('the declining cards are a 402 payment_declined with the issuer\'s reason; nothing is held', async () => {
    for (const [card, declineCode] of [['pm_card_chargeDeclined', 'generic_decline'], ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds']] as const) {
      const orderId = randomUUID();
      const declined = await authorize(orderId, card);
      assert.equal(declined.status, 402, JSON.stringify(declined.body));
      assert.deepEqual([(declined.body as unknown as { reason: string }).reason, (declined.body as unknown as { declineCode: string }).declineCode], ['payment_declined', declineCode]);
      assert.equal((await call(`/v1/payments/${orderId}`)).body.status, 'declined');
      assert.deepEqual((await intentsOf(orderId)).map((i) => [i.status, i.amount_capturable, i.amount_received]), [['requires_payment_method', 0, 0]]);
      // Voiding a declined payment has nothing to release.
      assert.equal((await call(`/v1/payments/${orderId}/void`)).body.status, 'declined');
    }
  });

  test('an authorisation sent again (a retry, a crash) answers the one payment; the provider holds the order once', async () => {
    const orderId = randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => authorize(orderId)));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
    assert.equal(new Set(answers.map((a) => a.body.providerPaymentId)).size, 1);
    assert.equal((await intentsOf(orderId)).length, 1);
    const other = await authorize(orderId, 'pm_card_visa', 1);
    assert.equal(other.status, 422, 'another amount for the same order is refused');
  });

  test('the provider charges and its answer is lost: the authorisation asked again finds that charge, and nothing is charged twice', async () => {
    const orderId = randomUUID();
    await setFaults({ hangAfterCharge: 1 });
    const lost = await authorize(orderId);
    assert.ok(lost.status === 504 || lost.status === 503, `the outcome is unknown: ${lost.status} ${JSON.stringify(lost.body)}`);
    const again = await authorize(orderId);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.status, 'authorized');
    assert.equal((await intentsOf(orderId)).length, 1, 'charged once');
  });

  test('a void before any authorisation (a saga compensating after a crash) means the order is never charged, even if an authorisation comes after', async () => {
    const orderId = randomUUID();
    assert.equal((await call(`/v1/payments/${orderId}/void`)).body.status, 'voided');
    const late = await authorize(orderId);
    assert.equal(late.status, 422);
    assert.equal((late.body as unknown as { reason: string }).reason, 'payment_voided');
    assert.deepEqual(await intentsOf(orderId), []);
    const held = randomUUID();
    await authorize(held);
    assert.equal((await call(`/v1/payments/${held}/void`)).body.status, 'voided');
    assert.deepEqual((await intentsOf(held)).map((i) => i.status), ['canceled']);
    assert.equal((await call(`/v1/payments/${held}/refund`)).status, 422, 'a voided payment has nothing to refund');
  });

  test('webhooks, each twice and late: applied once each, never backwards; a lost answer is settled by its webhook alone; a forged one is refused', async () => {
    const orderId = randomUUID();
    await authorize(orderId);
    await call(`/v1/payments/${orderId}/capture`);
    const providerId = (await call(`/v1/payments/${orderId}`)).body.providerPaymentId!;
    // Its events: created, capturable (authorized), succeeded (captured), each delivered twice.
    for (const until = Date.now() + 10_000; Date.now() < until; await sleep(50)) {
      const { rows: [delivered] } = await provider.db.query<{ n: number }>(
        `select count(*)::int as n from events where payload->'object'->>'id' = $1 and delivered_at is not null`, [providerId]);
      if (delivered!.n >= 3) break;
    }
    const { rows: applied } = await payment.db.query<{ type: string }>('select type from webhook_events');
    assert.ok(applied.some((e) => e.type === 'captured'), JSON.stringify(applied));
    const { rows: [twice] } = await provider.db.query<{ n: number }>(`select count(*)::int as n from events where payload->'object'->>'id' = $1 and attempts >= 2`, [providerId]);
    assert.ok(twice!.n >= 1, 'the provider sent its events twice; payment applied each once (one row per event id)');
    assert.equal((await call(`/v1/payments/${orderId}`)).body.status, 'captured', 'the late "authorized" did not take it back');

    // The provider charges, the answer is lost, and nobody asks again: the webhook settles it.
    const unasked = randomUUID();
    await setFaults({ hangAfterCharge: 1 });
    assert.notEqual((await authorize(unasked)).status, 200);
    let settled = '';
    for (const until = Date.now() + 10_000; settled !== 'authorized' && Date.now() < until; await sleep(50)) settled = (await call(`/v1/payments/${unasked}`)).body.status;
    assert.equal(settled, 'authorized');

    const forged = await fetch(`${payment.url}/webhooks/provider`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
      body: JSON.stringify({ id: 'evt_forged', type: 'refund.created', data: { object: { id: 're_1', payment_intent: providerId } } }),
    });
    assert.equal(forged.status, 401);
    assert.equal((await call(`/v1/payments/${orderId}`)).body.status, 'captured');
  });

  test('a signed webhook whose metadata names no payment of ours (not a UUID, or none) is received and changes nothing', async () => {
    const orderId = randomUUID();
    await authorize(orderId);
    const signer = new Stripe('sk_unused_for_signatures_only').webhooks;
    for (const paymentId of ["x' or true --", '', randomUUID()]) {
      const payload = JSON.stringify({ id: `evt_${randomUUID()}`, type: 'payment_intent.succeeded', data: { object: { id: `pi_${randomUUID()}`, metadata: { payment_id: paymentId } } } });
      const answer = await fetch(`${payment.url}/webhooks/provider`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signer.generateTestHeaderString({ payload, secret: webhookSecret }) }, body: payload,
      });
      assert.equal(answer.status, 200, `payment_id ${JSON.stringify(paymentId)}: ${await answer.text()}`);
    }
    assert.equal((await call(`/v1/payments/${orderId}`)).body.status, 'authorized');
  });

  test('each outcome is one event on its feed, read as notifications reads it: captured, refunded, failed; retries and webhooks add none', async () => {
    const paid = randomUUID();
    await authorize(paid);
    await call(`/v1/payments/${paid}/capture`);
    await call(`/v1/payments/${paid}/capture`);
    await call(`/v1/payments/${paid}/refund`);
    const declined = randomUUID();
    await authorize(declined, 'pm_card_chargeDeclined');
    await authorize(declined, 'pm_card_chargeDeclined');
    // Webhooks for these come late and twice: wait until the provider has sent them all.
    for (const until = Date.now() + 10_000; Date.now() < until; await sleep(50)) {
      const { rows: [left] } = await provider.db.query<{ n: number }>('select count(*)::int as n from events where delivered_at is null');
      if (left!.n === 0) break;
    }
    type Feed = { events: Array<{ event: { type: string; data: { orderId: string; amountCents: number; declineCode?: string; card?: unknown } } }> };
    const feed = await fetch(`${payment.url}/events/v1/feed?after=0&limit=500&types=payment.captured,payment.refunded,payment.failed`, { headers: await testIdentity.headers('notifications', 'payment') });
    assert.equal(feed.status, 200);
    const events = ((await feed.json()) as Feed).events.map((e) => e.event);
    const of = (orderId: string) => events.filter((e) => e.data.orderId === orderId).map((e) => e.type);
    assert.deepEqual(of(paid), ['payment.captured', 'payment.refunded']);
    assert.deepEqual(of(declined), ['payment.failed']);
    const captured = events.find((e) => e.type === 'payment.captured' && e.data.orderId === paid)!;
    assert.deepEqual([captured.data.amountCents, captured.data.card], [4980, { brand: 'visa', last4: '4242' }]);
    assert.equal(events.find((e) => e.data.orderId === declined)!.data.declineCode, 'generic_decline');
  });

  test('over gRPC, with a stock @grpc/grpc-js client loading the .proto: the same steps, a declined card is FAILED_PRECONDITION', async (t) => {
    type WirePayment = { orderId: string; status: string; cardBrand: string; cardLast4: string; declineCode: string };
    type Call<Q> = (request: Q, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: { payment: WirePayment }) => void) => void;
    interface Stub extends grpc.Client { Authorize: Call<{ orderId: string; amountCents: number; currency: string; method: string }>; Capture: Call<{ orderId: string }> }
    const definition = protoLoader.loadSync('baton/payment/v1/payment.proto', { includeDirs: [protoRoot], defaults: true, enums: String });
    const { PaymentService } = (grpc.loadPackageDefinition(definition) as unknown as { baton: { payment: { v1: { PaymentService: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => Stub } } } }).baton.payment.v1;
    const stub = new PaymentService(new URL(payment.grpcUrl!).host, grpc.credentials.createInsecure(), { interceptors: [serviceTokenInterceptor('orders', 'payment')] });
    t.after(() => stub.close());
    const unary = <Q>(method: Call<Q>, request: Q) => new Promise<{ payment: WirePayment }>((resolve, reject) => {
      method.call(stub, request, { deadline: Date.now() + 5_000 }, (error, response) => (error ? reject(error) : resolve(response!)));
    });
    const orderId = randomUUID();
    const held = await unary(stub.Authorize, { orderId, amountCents: 1290, currency: 'EUR', method: 'pm_card_mastercard' });
    assert.deepEqual([held.payment.status, held.payment.cardBrand, held.payment.cardLast4], ['PAYMENT_STATUS_AUTHORIZED', 'mastercard', '4444']);
    assert.equal((await unary(stub.Capture, { orderId })).payment.status, 'PAYMENT_STATUS_CAPTURED');
    const declined = await unary(stub.Authorize, { orderId: randomUUID(), amountCents: 1290, currency: 'EUR', method: 'pm_card_chargeDeclined' })
      .then(() => assert.fail('a declined card was authorised'), (error: grpc.ServiceError) => error);
    assert.equal(declined.code, grpc.status.FAILED_PRECONDITION);
  });

  test('only orders may call it', async () => {
    const response = await fetch(`${payment.url}/v1/payments/${randomUUID()}`, { headers: await testIdentity.headers('gateway', 'payment') });
    assert.equal(response.status, 403);
  });
});
