import { fileURLToPath } from 'node:url';
import { PaymentService } from '@baton/contracts/payment/v1';
import { startPublishing } from '@baton/kit/messaging';
import type { ServiceDefinition } from '@baton/kit/service';
import type { Config } from './config.ts';
import type { Payments } from './payments/payments.ts';
import { createStripeProvider } from './provider/stripe.ts';
import { registerPaymentRoutes } from './routes/payment-routes.ts';
import { createPaymentRpc } from './rpc/payment-rpc.ts';

// The payments of a running service, made once in setup for both edges: the gRPC routes are
// registered after setup, with the same context, and must use the same provider client.
const paymentsOf = new WeakMap<object, Payments>();

/**
 * The payment service: each order's payment, authorised, captured, voided or refunded through
 * the payment provider, a system outside the shop. It keeps no card data.
 */

export const paymentService: ServiceDefinition<Config> = {
  name: 'payment',
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  async setup(app, context) {
    const { config, db, createHttpClient } = context;
    // payment.captured, .refunded, .failed: written with each change, published by the relay.
    const { outbox, relay } = await startPublishing(app, context, { domain: 'payment', readers: ['notifications'] });
    // The provider is not one of ours: no Baton token or header goes to it (`outside`).
    const client = createHttpClient({ name: 'provider', urls: config.PROVIDER_URL, timeoutMs: config.PROVIDER_TIMEOUT_MS, outside: true });
    const provider = createStripeProvider({ client, secretKey: config.PROVIDER_SECRET_KEY, webhookSecret: config.PROVIDER_WEBHOOK_SECRET });
    const payments: Payments = { db, provider, events: { outbox, committed: () => relay.wake() } };
    paymentsOf.set(context, payments);
    registerPaymentRoutes(app, payments);
  },
  grpc: {
    port: (config) => config.GRPC_PORT,
    routes(router, context) {
      router.service(PaymentService, createPaymentRpc(paymentsOf.get(context)!));
    },
    // Only orders' checkout moves money.
    callers: {
      'baton.payment.v1.PaymentService/Authorize': ['orders'],
      'baton.payment.v1.PaymentService/Capture': ['orders'],
      'baton.payment.v1.PaymentService/Void': ['orders'],
      'baton.payment.v1.PaymentService/Refund': ['orders'],
      'baton.payment.v1.PaymentService/GetPayment': ['orders'],
    },
  },
};
