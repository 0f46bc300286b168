import type { HttpClient } from '@baton/kit/http';
import type { StatelessServiceContext } from '@baton/kit/service';
import type { Config } from './config.ts';

export interface Upstreams {
  users: HttpClient;
  inventory: HttpClient;
  orders: HttpClient;
  notifications: HttpClient;
  /** Undefined in a shop without media (`MEDIA_URLS` unset). */
  media: HttpClient | undefined;
}

/** One kit client per service behind the gateway: a keep-alive pool, breakers and retries each. */
export function createUpstreams(config: Config, createHttpClient: StatelessServiceContext<Config>['createHttpClient']): Upstreams {
  const retry = { unsentWindowMs: config.UPSTREAM_UNREACHABLE_WINDOW_MS };
  const client = (name: string, urls: string[]) => createHttpClient({ name, urls, timeoutMs: config.UPSTREAM_TIMEOUT_MS, retry });
  return {
    users: client('users', config.USERS_URLS),
    inventory: client('inventory', config.INVENTORY_URLS),
    orders: client('orders', config.ORDERS_URLS),
    notifications: client('notifications', config.NOTIFICATIONS_URLS),
    media: config.MEDIA_URLS === undefined ? undefined : client('media', config.MEDIA_URLS),
  };
}
