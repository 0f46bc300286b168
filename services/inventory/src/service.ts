import { fileURLToPath } from 'node:url';
import { InventoryService } from '@baton/contracts/inventory/v1';
import { createServiceTokenVerifier } from '@baton/kit/auth';
import type { ServiceDefinition } from '@baton/kit/service';
import type { Config } from './config.ts';
import { startExpirySweeper } from './reservations/expiry-sweeper.ts';
import { registerImageRoutes } from './routes/image-routes.ts';
import { registerProductRoutes } from './routes/product-routes.ts';
import { registerReservationRoutes } from './routes/reservation-routes.ts';
import { registerStaffRoutes } from './routes/staff-routes.ts';
import { createInventoryRpc } from './rpc/inventory-rpc.ts';

/** The inventory service: the catalogue, its stock, and the reservations checkout holds on it. */
export const inventoryService: ServiceDefinition<Config> = {
  name: 'inventory',
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  setup(app, context) {
    const { config, db, logger, onClose } = context;
    registerProductRoutes(app, { db });
    registerImageRoutes(app, { db });
    registerStaffRoutes(app, { db, verifier: createServiceTokenVerifier(context, { ...config, usersUrls: config.USERS_URLS }) });
    registerReservationRoutes(app, { db, defaultTtlSeconds: config.RESERVATION_TTL_SECONDS, maxTtlSeconds: config.RESERVATION_MAX_TTL_SECONDS });

    const sweeper = startExpirySweeper({
      db,
      logger,
      sweepIntervalMs: config.RESERVATION_SWEEP_INTERVAL_MS,
      batchSize: config.RESERVATION_SWEEP_BATCH_SIZE,
    });
    // Closers run after in-flight requests finished and before the database closes.
    onClose(() => sweeper.stop());
  },
  grpc: {
    port: (config) => config.GRPC_PORT,
    routes(router, { config, db }) {
      router.service(InventoryService, createInventoryRpc({ db, defaultTtlSeconds: config.RESERVATION_TTL_SECONDS, maxTtlSeconds: config.RESERVATION_MAX_TTL_SECONDS }));
    },
    // Checkout's calls: only orders may hold, confirm or release stock.
    callers: {
      'baton.inventory.v1.InventoryService/GetProduct': ['orders'],
      'baton.inventory.v1.InventoryService/CreateReservation': ['orders'],
      'baton.inventory.v1.InventoryService/GetReservation': ['orders'],
      'baton.inventory.v1.InventoryService/ConfirmReservation': ['orders'],
      'baton.inventory.v1.InventoryService/ReleaseReservation': ['orders'],
    },
  },
};
