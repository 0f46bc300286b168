import { fileURLToPath } from 'node:url';
import { bearerTokenOf, createServiceTokenVerifier } from '@baton/kit/auth';
import { startPublishing } from '@baton/kit/messaging';
import type { ServiceContext, ServiceDefinition } from '@baton/kit/service';
import { createIdempotencyStore } from './checkout/idempotency.ts';
import { startReservationReconciler } from './checkout/reconciler.ts';
import type { Config } from './config.ts';
import { registerOrderRoutes } from './routes/order-routes.ts';
import { InventoryService } from '@baton/contracts/inventory/v1';
import { UsersService } from '@baton/contracts/users/v1';
import { createGrpcInventoryApi, createGrpcUsersApi } from './upstreams/grpc-upstreams.ts';
import { createHttpInventoryApi, createHttpUsersApi } from './upstreams/http-upstreams.ts';
import type { InventoryApi, UsersApi } from './upstreams/upstreams.ts';

export const ordersService: ServiceDefinition<Config> = {
  name: 'orders',
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  async setup(app, context) {
    const { config, db, logger, onClose } = context;
    // Order events are written to the outbox with each change and published by its relay.
    const { outbox, relay } = await startPublishing(app, context, { domain: 'orders', readers: ['notifications'] });
    const events = { outbox, committed: () => relay.wake() };
    const { users, inventory } = upstreamsOf(context);
    logger.info({ protocol: config.UPSTREAM_PROTOCOL }, `calling users and inventory over ${config.UPSTREAM_PROTOCOL}`);
    const verifier = createServiceTokenVerifier(context, { ...config, usersUrls: config.USERS_URLS });

    registerOrderRoutes(app, {
      db,
      logger,
      users,
      inventory,
      idempotency: createIdempotencyStore(db, { staleAfterSeconds: Math.max(config.IDEMPOTENCY_STALE_AFTER_MS, config.CHECKOUT_DEADLINE_MS + 1_000) / 1_000 }),
      events,
      checkoutDeadlineMs: config.CHECKOUT_DEADLINE_MS,
      // The orders service checks the caller's token itself: the gateway is not the only
      // thing between the network and an order.
      authenticate: async (request) => (await verifier.verify(bearerTokenOf(request.headers.authorization))).userId,
    });

    const reconciler = startReservationReconciler({ db, inventory, logger, events });
    // Registered after the clients and the relay, so it stops before they do: closers run in reverse.
    onClose(() => reconciler.stop());
  },
};

/**
 * Users and inventory, over gRPC (the default) or HTTP/JSON (`UPSTREAM_PROTOCOL=http`). Checkout
 * sees only the UsersApi and InventoryApi interfaces, so it does not know which; both go
 * through the kit's clients, wired to this service's logger and metrics and closed with it.
 */
function upstreamsOf({ config, createHttpClient, createGrpcClient }: ServiceContext<Config>): { users: UsersApi; inventory: InventoryApi } {
  const timeoutMs = config.UPSTREAM_TIMEOUT_MS;
  if (config.UPSTREAM_PROTOCOL === 'http') {
    return {
      users: createHttpUsersApi(createHttpClient({ name: 'users', urls: config.USERS_URLS, timeoutMs })),
      inventory: createHttpInventoryApi(createHttpClient({ name: 'inventory', urls: config.INVENTORY_URLS, timeoutMs })),
    };
  }
  // The schema requires both addresses with grpc; these defaults are never used.
  const users = createGrpcClient({ name: 'users', urls: config.USERS_GRPC_URLS ?? [], timeoutMs });
  const inventory = createGrpcClient({ name: 'inventory', urls: config.INVENTORY_GRPC_URLS ?? [], timeoutMs });
  return {
    users: createGrpcUsersApi(users.client(UsersService)),
    inventory: createGrpcInventoryApi(inventory.client(InventoryService)),
  };
}
