import { fileURLToPath } from 'node:url';
import { bearerTokenOf, createServiceTokenVerifier } from '@baton/kit/auth';
import { startPublishing } from '@baton/kit/messaging';
import type { ServiceContext, ServiceDefinition } from '@baton/kit/service';
import { startCancelReconciler } from './checkout/cancel-reconciler.ts';
import { startCheckoutReconciler } from './checkout/checkout-reconciler.ts';
import { createIdempotencyStore } from './checkout/idempotency.ts';
import { startReservationReconciler } from './checkout/reconciler.ts';
import { releaseBudgetMs } from './checkout/release-quietly.ts';
import { createSagaObserver } from './checkout/saga-observer.ts';
import { registerCheckoutFaults } from './routes/checkout-faults.ts';
import type { SagaDeps } from './checkout/saga.ts';
import type { Config } from './config.ts';
import { registerOrderRoutes } from './routes/order-routes.ts';
import { InventoryService } from '@baton/contracts/inventory/v1';
import { PaymentService } from '@baton/contracts/payment/v1';
import { UsersService } from '@baton/contracts/users/v1';
import { createGrpcInventoryApi, createGrpcPaymentApi, createGrpcUsersApi } from './upstreams/grpc-upstreams.ts';
import { createHttpInventoryApi, createHttpPaymentApi, createHttpUsersApi } from './upstreams/http-upstreams.ts';
import type { InventoryApi, PaymentApi, UsersApi } from './upstreams/upstreams.ts';

export const ordersService: ServiceDefinition<Config> = {
  name: 'orders',
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  async setup(app, context) {
    const { config, db, logger, metrics, tracer, adminApp, onClose } = context;
    // Order events are written to the outbox with each change and published by its relay.
    const { outbox, relay } = await startPublishing(app, context, { domain: 'orders', readers: ['notifications'] });
    const events = { outbox, committed: () => relay.wake() };
    const { users, inventory, payment } = upstreamsOf(context);
    logger.info({ protocol: config.UPSTREAM_PROTOCOL, payment: config.CHECKOUT_PAYMENT }, `calling users, inventory${payment ? ' and payment' : ''} over ${config.UPSTREAM_PROTOCOL}`);
    const verifier = createServiceTokenVerifier(context, { ...config, usersUrls: config.USERS_URLS });
    const idempotency = createIdempotencyStore(db, { staleAfterSeconds: Math.max(config.IDEMPOTENCY_STALE_AFTER_MS, config.CHECKOUT_DEADLINE_MS + 1_000) / 1_000 });
    // Checkout with payment: the saga, and its reconciler for checkouts a crash left part-way.
    const saga: SagaDeps | undefined = payment === undefined ? undefined : {
      db, idempotency, inventory, payment, events, logger, compensationBudgetMs: releaseBudgetMs,
      observer: createSagaObserver({ registry: metrics.registry, tracer }),
    };
    if (saga !== undefined) registerCheckoutFaults(adminApp, saga.observer);

    registerOrderRoutes(app, {
      db,
      logger,
      users,
      inventory,
      idempotency,
      events,
      saga,
      checkoutDeadlineMs: config.CHECKOUT_DEADLINE_MS,
      // The orders service checks the caller's token itself: the gateway is not the only
      // thing between the network and an order.
      authenticate: async (request) => (await verifier.verify(bearerTokenOf(request.headers.authorization))).userId,
    });

    const reconciler = startReservationReconciler({ db, inventory, logger, events });
    // Registered after the clients and the relay, so it stops before they do: closers run in reverse.
    onClose(() => reconciler.stop());
    const cancels = startCancelReconciler({ db, inventory, events, logger, saga });
    onClose(() => cancels.stop());
    if (saga !== undefined) {
      const checkouts = startCheckoutReconciler(saga, {
        intervalMs: config.CHECKOUT_RECONCILE_INTERVAL_MS, staleAfterMs: config.CHECKOUT_STALE_AFTER_MS,
        giveUpAfterMs: config.CHECKOUT_GIVE_UP_AFTER_MS, callBudgetMs: config.CHECKOUT_DEADLINE_MS,
      });
      onClose(() => checkouts.stop());
    }
  },
};

/**
 * Users, inventory and payment, over HTTP/JSON (the default) or gRPC (`UPSTREAM_PROTOCOL=grpc`).
 * Checkout sees only the UsersApi, InventoryApi and PaymentApi interfaces, so it does not know
 * which; both go through the kit's clients, wired to this service's logger and metrics and
 * closed with it.
 */
function upstreamsOf({ config, createHttpClient, createGrpcClient }: ServiceContext<Config>): { users: UsersApi; inventory: InventoryApi; payment: PaymentApi | undefined } {
  const timeoutMs = config.UPSTREAM_TIMEOUT_MS;
  const retry = { unsentWindowMs: config.UPSTREAM_UNREACHABLE_WINDOW_MS };
  const paymentOn = config.CHECKOUT_PAYMENT === 'on';
  if (config.UPSTREAM_PROTOCOL === 'http') {
    return {
      users: createHttpUsersApi(createHttpClient({ name: 'users', urls: config.USERS_URLS, timeoutMs, retry })),
      inventory: createHttpInventoryApi(createHttpClient({ name: 'inventory', urls: config.INVENTORY_URLS, timeoutMs, retry })),
      payment: paymentOn ? createHttpPaymentApi(createHttpClient({ name: 'payment', urls: config.PAYMENT_URLS ?? [], timeoutMs: config.PAYMENT_TIMEOUT_MS })) : undefined,
    };
  }
  // The schema requires these addresses with grpc; the empty defaults are never used.
  const users = createGrpcClient({ name: 'users', urls: config.USERS_GRPC_URLS ?? [], timeoutMs, retry });
  const inventory = createGrpcClient({ name: 'inventory', urls: config.INVENTORY_GRPC_URLS ?? [], timeoutMs, retry });
  return {
    users: createGrpcUsersApi(users.client(UsersService)),
    inventory: createGrpcInventoryApi(inventory.client(InventoryService)),
    payment: paymentOn ? createGrpcPaymentApi(createGrpcClient({ name: 'payment', urls: config.PAYMENT_GRPC_URLS ?? [], timeoutMs: config.PAYMENT_TIMEOUT_MS }).client(PaymentService)) : undefined,
  };
}
