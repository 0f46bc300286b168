import Stripe from 'stripe';
import { Code, KitError } from '@baton/kit/errors';
import { UpstreamError, type HttpClient } from '@baton/kit/http';
import type { Authorization, PaymentProvider, ProviderCallOptions, ProviderEvent } from './provider.ts';

interface StripeIntent {
  id: string;
  status: string;
  metadata?: Record<string, string>;
  latest_charge?: null | string | { payment_method_details?: { card?: { brand?: string; last4?: string } } };
  last_payment_error?: null | { decline_code?: string; payment_method?: { card?: { brand?: string; last4?: string } } };
}

interface StripeErrorBody { error?: { type?: string; code?: string; decline_code?: string; message?: string; payment_intent?: StripeIntent } }

// Stripe's webhook signatures are checked with Stripe's own library (no network: it only
// verifies); its calls go through the kit's client, for the deadline, breaker and metrics.
const signatures = new Stripe('sk_unused_for_signatures_only').webhooks;

/** What the provider answered a failed call with, when it answered at all. */
function answerOf(error: unknown): { status: number; body: StripeErrorBody } | undefined {
  // The client's error after its retries wraps the last attempt's, whose cause is the answer.
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 4; cause = cause.cause, depth += 1) {
    if (cause instanceof UpstreamError) return typeof cause.status === 'number' ? { status: cause.status, body: (cause.received ?? {}) as StripeErrorBody } : undefined;
  }
  return undefined;
}

/**
 * The provider's failure, in the kit's words: a timeout or a lost connection stays what it is
 * (the outcome unknown: the caller asks again with the same key); any other answer is the
 * provider failing, 503 for our caller, never our 500.
 */
function providerFailure(error: unknown, what: string): KitError {
  const kitError = KitError.from(error);
  if (answerOf(error) === undefined) return kitError;
  return new KitError(Code.Unavailable, `the payment provider could not ${what}`, { reason: 'provider_failed', cause: error });
}

const cardOf = (intent: StripeIntent) => {
  const charge = typeof intent.latest_charge === 'object' && intent.latest_charge !== null ? intent.latest_charge.payment_method_details?.card : undefined;
  const card = charge ?? intent.last_payment_error?.payment_method?.card;
  return { brand: card?.brand ?? null, last4: card?.last4 ?? null };
};

const kinds: Readonly<Record<string, ProviderEvent['kind']>> = {
  'payment_intent.amount_capturable_updated': 'authorized',
  'payment_intent.payment_failed': 'declined',
  'payment_intent.succeeded': 'captured',
  'payment_intent.canceled': 'voided',
  'refund.created': 'refunded',
};

/**
 * A payment provider with Stripe's API: payment intents with manual capture, refunds, the
 * caller's key sent as `Idempotency-Key`, form-encoded parameters, `{ error }` answers, signed
 * webhooks. `client` is a kit HTTP client made `outside: true`: the provider is sent no Baton
 * token or header, only its own secret key.
 */
export function createStripeProvider({ client, secretKey, webhookSecret }: { client: HttpClient; secretKey: string; webhookSecret: string }): PaymentProvider {
  const headers = { authorization: `Bearer ${secretKey}` };
  const post = <T>(path: string, params: Record<string, string>, key: string, options: ProviderCallOptions) =>
    client.request<T>({ method: 'POST', path, body: new URLSearchParams(params), idempotencyKey: key, headers, signal: options.signal, requestId: options.requestId });
  // A step the provider has already taken (captured, cancelled, refunded) is done, not failed.
  const alreadyDone = (error: unknown, codes: readonly string[], statuses: readonly string[]) => {
    const body = answerOf(error)?.body.error;
    return body?.code !== undefined && codes.includes(body.code) && (body.payment_intent === undefined || statuses.includes(body.payment_intent.status));
  };

  return {
    async authorize(request, options): Promise<Authorization> {
      try {
        const { body: intent } = await post<StripeIntent>('/v1/payment_intents', {
          amount: String(request.amountCents), currency: request.currency.toLowerCase(), payment_method: request.method,
          confirm: 'true', capture_method: 'manual', 'expand[]': 'latest_charge',
          'metadata[order_id]': request.orderId, 'metadata[payment_id]': request.paymentId,
        }, request.key, options);
        if (intent.status !== 'requires_capture') throw new KitError(Code.Unavailable, `the payment provider answered an authorisation with ${intent.status}`, { reason: 'provider_failed' });
        return { outcome: 'authorized', providerPaymentId: intent.id, ...cardOf(intent) };
      } catch (error) {
        const answer = answerOf(error);
        if (answer?.status === 402 && answer.body.error?.type === 'card_error') {
          const intent = answer.body.error.payment_intent;
          return {
            outcome: 'declined', providerPaymentId: intent?.id ?? null, declineCode: answer.body.error.decline_code ?? answer.body.error.code ?? 'declined',
            ...(intent ? cardOf(intent) : { brand: null, last4: null }),
          };
        }
        // An unknown payment method is the caller's mistake, not the provider failing.
        if (answer?.status === 404 && answer.body.error?.code === 'resource_missing') {
          throw new KitError(Code.InvalidArgument, 'no such payment method', { reason: 'unknown_payment_method', fields: [{ field: 'body.method', message: 'not a payment method the provider knows' }], cause: error });
        }
        throw providerFailure(error, 'authorise the payment');
      }
    },

    async capture({ key, providerPaymentId }, options) {
      await post(`/v1/payment_intents/${encodeURIComponent(providerPaymentId)}/capture`, {}, key, options).catch((error: unknown) => {
        if (!alreadyDone(error, ['payment_intent_unexpected_state'], ['succeeded'])) throw providerFailure(error, 'capture the payment');
      });
    },

    async void({ key, providerPaymentId }, options) {
      await post(`/v1/payment_intents/${encodeURIComponent(providerPaymentId)}/cancel`, {}, key, options).catch((error: unknown) => {
        if (!alreadyDone(error, ['payment_intent_unexpected_state'], ['canceled'])) throw providerFailure(error, 'void the payment');
      });
    },

    async refund({ key, providerPaymentId, amountCents }, options) {
      await post('/v1/refunds', { payment_intent: providerPaymentId, amount: String(amountCents) }, key, options).catch((error: unknown) => {
        if (!alreadyDone(error, ['charge_already_refunded'], [])) throw providerFailure(error, 'refund the payment');
      });
    },

    eventOf(body, signature) {
      let event: { id: string; type: string; data: { object: Record<string, unknown> } };
      try {
        event = signatures.constructEvent(body, signature ?? '', webhookSecret) as unknown as typeof event;
      } catch (error) {
        throw new KitError(Code.Unauthenticated, 'the webhook is not signed by the payment provider', { reason: 'bad_webhook_signature', cause: error });
      }
      const object = event.data.object;
      const kind = kinds[event.type] ?? 'other';
      const intent = object as unknown as StripeIntent;
      const providerPaymentId = kind === 'refunded' ? String(object.payment_intent) : intent.id;
      return {
        id: event.id, kind, providerPaymentId, paymentId: intent.metadata?.payment_id,
        ...(kind === 'declined' ? { declineCode: intent.last_payment_error?.decline_code ?? 'declined' } : {}),
        ...(kind === 'authorized' || kind === 'declined' ? cardOf(intent) : {}),
        ...(kind === 'refunded' ? { refundedCents: Number(object.amount) } : {}),
      };
    },
  };
}
