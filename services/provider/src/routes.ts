import { timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import qs from 'qs';
import type { Database } from '@baton/kit/db';
import { signalOf } from '@baton/kit/service';
import type { FaultSwitch } from './faults.ts';
import { idempotent, requestHashOf, type Answer } from './idempotency.ts';
import {
  cancelIntent, captureIntent, confirmationAnswer, confirmIntent, createIntent, findIntent, intentObject, listIntents, listRefunds, refund, refundObject, type Ledger,
} from './ledger.ts';
import { StripeError, invalidRequest } from './stripe-error.ts';

type Params = Record<string, unknown>;

// Stripe's parameters, as its clients send them: form-encoded, nested with brackets (`metadata[order_id]`).
const parseParams = (text: string): Params => qs.parse(text, { depth: 3, arrayLimit: 20, parameterLimit: 200 }) as Params;

function integer(params: Params, name: string, { required = false, min = 1, max = 99_999_999 } = {}): number | undefined {
  const value = params[name];
  if (value === undefined || value === '') {
    if (required) throw invalidRequest(`Missing required param: ${name}.`, name, 'parameter_missing');
    return undefined;
  }
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) throw invalidRequest(`Invalid integer: ${String(value)}`, name);
  return number;
}

function text(params: Params, name: string, allowed?: readonly string[]): string | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 500 || (allowed && !allowed.includes(value))) {
    throw invalidRequest(`Invalid ${name}${allowed ? `: must be one of ${allowed.join(', ')}` : ''}`, name);
  }
  return value;
}

function metadataOf(params: Params): Record<string, string> {
  const value = params.metadata ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidRequest('Invalid metadata: must be an object', 'metadata');
  const entries = Object.entries(value);
  if (entries.length > 50 || entries.some(([key, v]) => key.length > 40 || typeof v !== 'string' || v.length > 500)) {
    throw invalidRequest('Invalid metadata: at most 50 keys of 40 characters, each a string of at most 500', 'metadata');
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

const expands = (params: Params, what: string) => Array.isArray(params.expand) && params.expand.includes(what);

export interface ProviderRoutesOptions {
  db: Database;
  secretKey: string;
  faults: FaultSwitch;
  eventDelivery: Ledger['eventDelivery'];
}

/**
 * The provider's API, in Stripe's shape: payment intents (create, confirm, capture, cancel,
 * read, list) and refunds, authenticated by the secret key, form-encoded, idempotent on an
 * `Idempotency-Key`, errors as `{ "error": { type, code, message, … } }`.
 */
export function registerProviderRoutes(app: FastifyInstance, { db, secretKey, faults, eventDelivery }: ProviderRoutesOptions): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseParams(body as string));
  });
  // Stripe takes its key either way: as a bearer token, or as the user name of Basic auth (`curl -u sk_test_…:`).
  const accepted = [Buffer.from(`Bearer ${secretKey}`), Buffer.from(`Basic ${Buffer.from(`${secretKey}:`).toString('base64')}`)];

  app.addHook('onRequest', async function authenticateAndFault(request, reply) {
    // The route the router matched, not the path as sent: `/%761/refunds` is routed to
    // `/v1/refunds` once decoded, and must meet the key check as the plain path does.
    if (!request.routeOptions.url?.startsWith('/v1/')) return;
    const given = Buffer.from(request.headers.authorization ?? '');
    if (!accepted.some((expected) => given.length === expected.length && timingSafeEqual(given, expected))) {
      return reply.code(401).send({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided.' } });
    }
    // Stripe's API takes its parameters form-encoded, and nothing else: a JSON body would be
    // read as something it is not (its numbers are not strings), so it is refused by name.
    const type = request.headers['content-type'];
    if (request.method === 'POST' && type !== undefined && !type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return reply.code(400).send({ error: { type: 'invalid_request_error', code: 'invalid_content_type', message: 'Parameters must be sent form-encoded (application/x-www-form-urlencoded).' } });
    }
    const { latencyMs, failPercent } = faults.current;
    if (latencyMs > 0) await sleep(latencyMs, undefined, { signal: signalOf(request) }).catch(() => undefined);
    if (failPercent > 0 && Math.random() * 100 < failPercent) {
      return reply.code(500).send({ error: { type: 'api_error', message: 'An unknown error occurred' } });
    }
    return undefined;
  });

  // Answers as Stripe does: the idempotent replay says so; a Stripe error is its `error` object.
  async function answer(request: FastifyRequest, reply: FastifyReply, work: () => Promise<Answer & { replayed?: boolean }>, { charges = false } = {}): Promise<unknown> {
    try {
      const { status, body, replayed } = await work();
      if (replayed) void reply.header('idempotent-replayed', 'true');
      if (charges && status === 200 && faults.takeHang()) return await hang(request, reply);
      return await reply.code(status).send(body);
    } catch (error) {
      if (error instanceof StripeError) return reply.code(error.status).send({ error: error.body });
      throw error;
    }
  }

  /** The charge is made and committed; the answer never comes, until the caller gives up. */
  async function hang(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    request.log.warn('fault: a charge made and left unanswered');
    const signal = signalOf(request);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
      request.raw.socket.once('close', () => resolve());
    });
    request.raw.socket.destroy();
  }

  const paramsOf = (request: FastifyRequest) => (request.body ?? {}) as Params;
  const post = (request: FastifyRequest, work: (ledger: Ledger) => Promise<Answer>) => {
    const params = paramsOf(request);
    const key = typeof request.headers['idempotency-key'] === 'string' ? request.headers['idempotency-key'] : undefined;
    const options = { signal: signalOf(request) };
    return idempotent(db, key, requestHashOf(request.method, request.routeOptions.url ?? request.url, { params, route: request.params }),
      (tx) => work({ tx, options, eventDelivery }), options);
  };
  const queryOf = (request: FastifyRequest) => parseParams(request.url.split('?')[1] ?? '');
  const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;

  app.post('/v1/payment_intents', (request, reply) => answer(request, reply, () => post(request, async (ledger) => {
    const params = paramsOf(request);
    const currency = text(params, 'currency');
    if (currency === undefined) throw invalidRequest('Missing required param: currency.', 'currency', 'parameter_missing');
    if (!/^[a-z]{3}$/.test(currency)) throw invalidRequest(`Invalid currency: ${currency}`, 'currency');
    const intent = await createIntent(ledger, {
      amount: integer(params, 'amount', { required: true })!,
      currency,
      captureMethod: (text(params, 'capture_method', ['automatic', 'manual']) ?? 'automatic') as 'automatic' | 'manual',
      paymentMethod: text(params, 'payment_method'),
      confirm: text(params, 'confirm', ['true', 'false']) === 'true',
      metadata: metadataOf(params),
    });
    return confirmationAnswer(intent, { expandCharge: expands(params, 'latest_charge') });
  }), { charges: true }));

  app.post('/v1/payment_intents/:id/confirm', (request, reply) => answer(request, reply, () => post(request, async (ledger) => {
    const params = paramsOf(request);
    return confirmationAnswer(await confirmIntent(ledger, idOf(request), text(params, 'payment_method')), { expandCharge: expands(params, 'latest_charge') });
  }), { charges: true }));

  app.post('/v1/payment_intents/:id/capture', (request, reply) => answer(request, reply, () => post(request, async (ledger) => {
    const params = paramsOf(request);
    const captured = await captureIntent(ledger, idOf(request), integer(params, 'amount_to_capture'));
    return { status: 200, body: intentObject(captured, { expandCharge: expands(params, 'latest_charge') }) };
  }), { charges: true }));

  app.post('/v1/payment_intents/:id/cancel', (request, reply) => answer(request, reply, () => post(request, async (ledger) => {
    const reason = text(paramsOf(request), 'cancellation_reason', ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned']);
    return { status: 200, body: intentObject(await cancelIntent(ledger, idOf(request), reason)) };
  })));

  app.get('/v1/payment_intents/:id', (request, reply) => answer(request, reply, async () => {
    const intent = await findIntent(db, idOf(request), { signal: signalOf(request) });
    return { status: 200, body: intentObject(intent, { expandCharge: expands(queryOf(request), 'latest_charge') }) };
  }));

  app.get('/v1/payment_intents', (request, reply) => answer(request, reply, async () => {
    const query = queryOf(request);
    const page = await listIntents(db, { limit: integer(query, 'limit', { max: 100 }) ?? 10, startingAfter: text(query, 'starting_after') }, { signal: signalOf(request) });
    return { status: 200, body: { object: 'list', url: '/v1/payment_intents', has_more: page.hasMore, data: page.rows.map((row) => intentObject(row, { expandCharge: expands(query, 'data.latest_charge') })) } };
  }));

  app.post('/v1/refunds', (request, reply) => answer(request, reply, () => post(request, async (ledger) => {
    const params = paramsOf(request);
    const paymentIntent = text(params, 'payment_intent');
    if (paymentIntent === undefined) throw invalidRequest('Missing required param: payment_intent.', 'payment_intent', 'parameter_missing');
    const row = await refund(ledger, {
      paymentIntent, amount: integer(params, 'amount'), reason: text(params, 'reason', ['duplicate', 'fraudulent', 'requested_by_customer']), metadata: metadataOf(params),
    });
    return { status: 200, body: refundObject(row) };
  })));

  app.get('/v1/refunds', (request, reply) => answer(request, reply, async () => {
    const query = queryOf(request);
    const page = await listRefunds(db, { paymentIntent: text(query, 'payment_intent'), limit: integer(query, 'limit', { max: 100 }) ?? 10, startingAfter: text(query, 'starting_after') }, { signal: signalOf(request) });
    return { status: 200, body: { object: 'list', url: '/v1/refunds', has_more: page.hasMore, data: page.rows.map(refundObject) } };
  }));
}
