import { fileURLToPath } from 'node:url';
import { bearerTokenOf, createTokenVerifier } from '@baton/kit/auth';
import type { ServiceDefinition } from '@baton/kit/service';
import { createIdempotencyStore } from './checkout/idempotency.ts';
import { startReservationReconciler } from './checkout/reconciler.ts';
import type { Config } from './config.ts';
import { registerOrderRoutes } from './routes/order-routes.ts';
import { createHttpInventoryApi, createHttpUsersApi } from './upstreams/http-upstreams.ts';

export const ordersService: ServiceDefinition<Config> = {
  name: 'orders',
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  setup(app, { config, db, logger, onClose, createHttpClient }) {
    const usersClient = createHttpClient({ name: 'users', urls: config.USERS_URLS, timeoutMs: config.UPSTREAM_TIMEOUT_MS });
    const inventoryClient = createHttpClient({ name: 'inventory', urls: config.INVENTORY_URLS, timeoutMs: config.UPSTREAM_TIMEOUT_MS });
    const users = createHttpUsersApi(usersClient);
    const inventory = createHttpInventoryApi(inventoryClient);
    const verifier = createTokenVerifier({
      jwksUrl: config.USERS_JWKS_URL ?? new URL('/.well-known/jwks.json', config.USERS_URLS[0]).href,
      issuer: config.TOKEN_ISSUER,
      audience: config.TOKEN_AUDIENCE,
    });

    registerOrderRoutes(app, {
      db,
      logger,
      users,
      inventory,
      idempotency: createIdempotencyStore(db),
      checkoutDeadlineMs: config.CHECKOUT_DEADLINE_MS,
      // The orders service checks the caller's token itself: the gateway is not the only
      // thing between the network and an order.
      authenticate: async (request) => (await verifier.verify(bearerTokenOf(request.headers.authorization))).userId,
    });

    const reconciler = startReservationReconciler({ db, inventory, logger });
    // Registered after the clients, so it runs before they close: closers run in reverse.
    onClose(() => reconciler.stop());
  },
};
