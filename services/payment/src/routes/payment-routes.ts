import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { signalOf } from '@baton/kit/service';
import {
  applyProviderEvent, authorizePayment, capturePayment, findPayment, paymentView, refundPayment, voidPayment, type Payments,
} from '../payments/payments.ts';
import { authorizeBody, orderParams } from './payment-schemas.ts';


/**
 * The payment service's API, for orders alone: each step for one order's payment, each safe to
 * send again (the same step answers the payment as it is), so orders' saga may retry any of
 * them after a crash. And the provider's webhook, open to the internet but believed only when
 * the provider signed it.
 */
export function registerPaymentRoutes(app: FastifyInstance, payments: Payments): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const config = { callers: ['orders'] } as const;
  const options = (request: FastifyRequest) => ({ signal: signalOf(request), requestId: request.id });

  api.post('/v1/payments/:orderId/authorize', { config, schema: { params: orderParams, body: authorizeBody } }, async (request) =>
    paymentView(await authorizePayment(payments, { orderId: request.params.orderId, ...request.body }, options(request))));
  api.post('/v1/payments/:orderId/capture', { config, schema: { params: orderParams } }, async (request) =>
    paymentView(await capturePayment(payments, request.params.orderId, options(request))));
  api.post('/v1/payments/:orderId/void', { config, schema: { params: orderParams } }, async (request) =>
    paymentView(await voidPayment(payments, request.params.orderId, options(request))));
  api.post('/v1/payments/:orderId/refund', { config, schema: { params: orderParams } }, async (request) =>
    paymentView(await refundPayment(payments, request.params.orderId, options(request))));
  api.get('/v1/payments/:orderId', { config, schema: { params: orderParams } }, async (request) =>
    paymentView(await findPayment(payments.db, request.params.orderId, options(request))));

  // The signature is over the body as sent: this route reads it as text, in a scope of its own.
  void app.register(async function webhookScope(scope) {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 256 * 1024 }, (_request, body, done) => done(null, body));
    scope.post('/webhooks/provider', { config: { callers: 'public' } }, async (request, reply) => {
      const event = payments.provider.eventOf(String(request.body ?? ''), request.headers['stripe-signature'] as string | undefined);
      const applied = await applyProviderEvent(payments, event, options(request));
      request.log.info({ event: event.id, kind: event.kind, applied }, 'provider webhook');
      return reply.code(200).send({ received: true });
    });
  });
}
