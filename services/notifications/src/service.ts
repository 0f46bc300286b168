import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@baton/kit/service';
import type { Config } from './config.ts';

export const notificationsService: ServiceDefinition<Config> = {
  name: 'notifications',
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  setup() {
    // Routes arrive with the shop; the skeleton already serves /healthz, /readyz and /metrics.
  },
};
