import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@baton/kit/service';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config.ts';
import { createFaultSwitch, providerFaultsSchema } from './faults.ts';
import { registerProviderRoutes } from './routes.ts';
import { startWebhookDelivery } from './webhooks.ts';

/**
 * A payment provider outside the shop, as Stripe is to a real one: its API has Stripe's shape
 * (payment intents, refunds, idempotency keys, test cards, signed webhooks), so the payment
 * service's adapter for it is the adapter a Stripe integration would be. It is built on the
 * kit for its plumbing (config, database, health, logs, shutdown), but its callers authenticate
 * with its secret key, as Stripe's do, not with a Baton service token: it is not one of ours.
 */
export const providerService: ServiceDefinition<Config> = {
  name: 'provider',
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  async setup(app, context) {
    const { config, db, logger, adminApp, onClose } = context;
    app.addHook('onRoute', function openToItsCustomers(route) {
      if (route.url.startsWith('/v1/')) route.config = { ...route.config, callers: 'public' };
    });
    const faults = createFaultSwitch();
    registerProviderRoutes(app, {
      db, secretKey: config.SECRET_KEY, faults,
      eventDelivery: () => ({ delayMs: Math.random() * config.WEBHOOK_MAX_DELAY_MS, copies: Math.random() * 100 < config.WEBHOOK_DUPLICATE_PERCENT ? 2 : 1 }),
    });

    adminApp.get('/admin/provider/faults', async () => faults.current);
    adminApp.withTypeProvider<ZodTypeProvider>().put('/admin/provider/faults', { schema: { body: providerFaultsSchema } }, async (request) => {
      faults.set(request.body);
      logger.warn({ faults: faults.current }, 'provider faults changed');
      return faults.current;
    });

    if (config.WEBHOOK_URL !== undefined && config.WEBHOOK_SECRET !== undefined) {
      const delivery = startWebhookDelivery(db, logger, {
        url: config.WEBHOOK_URL, secret: config.WEBHOOK_SECRET, timeoutMs: config.WEBHOOK_TIMEOUT_MS, maxDelayMs: config.WEBHOOK_MAX_DELAY_MS,
      });
      onClose(() => delivery.stop());
    }
  },
};
