import { accessTokenConfigFields } from '@baton/kit/auth';
import { databaseConfigFields, env, loadConfig, serviceConfigFields, serviceIdentityFields, z } from '@baton/kit/config';
import { messagingConfigFields } from '@baton/kit/messaging';

/**
 * Every variable the orders service reads, checked once at start. Orders cannot work without
 * knowing where users and inventory are, so their addresses have no default: the dev runner
 * (or a Kubernetes manifest) says where they are.
 */
export const configSchema = z.object({
  ...serviceConfigFields({ name: 'orders', port: 8083 }),
  ...serviceIdentityFields(),
  ...databaseConfigFields(),
  /** Where order events go: NATS_URL, AMQP_URL, or neither (the HTTP feed); see docs/messaging.md. */
  ...messagingConfigFields(),
  /** Base URLs of the users service instances, comma-separated. */
  USERS_URLS: env.urlList(),
  /** Base URLs of the inventory service instances, comma-separated. */
  INVENTORY_URLS: env.urlList(),
  /**
   * How orders calls users and inventory: `grpc` (the default; their gRPC listeners, at
   * `*_GRPC_URLS`) or `http` (HTTP/JSON at `*_URLS`). Both go through the kit's clients, with the
   * same deadline, retries, breakers and balancing.
   */
  UPSTREAM_PROTOCOL: z.enum(['grpc', 'http'], { error: 'expected grpc or http' }).default('grpc'),
  /** gRPC addresses of the users service instances, comma-separated; required with `grpc`. */
  USERS_GRPC_URLS: env.urlList().optional(),
  /** gRPC addresses of the inventory service instances, comma-separated; required with `grpc`. */
  INVENTORY_GRPC_URLS: env.urlList().optional(),
  /** USERS_JWKS_URL, TOKEN_*: how access tokens are checked (the kit's, with `orders` as the audience). */
  ...accessTokenConfigFields({ audience: 'orders' }),
  /** The longest a checkout may take, whatever budget the caller sends. */
  CHECKOUT_DEADLINE_MS: env.milliseconds(8_000),
  /** The longest one call to users or inventory may take within that. */
  UPSTREAM_TIMEOUT_MS: env.milliseconds(3_000),
  /**
   * How long an Idempotency-Key whose request never finished (its process died) stays claimed
   * before a retry may take it over. Keep it above CHECKOUT_DEADLINE_MS, so a request still at
   * work is never taken over.
   */
  IDEMPOTENCY_STALE_AFTER_MS: env.milliseconds(30_000),
}).superRefine((config, ctx) => {
  if (config.UPSTREAM_PROTOCOL !== 'grpc') return;
  for (const variable of ['USERS_GRPC_URLS', 'INVENTORY_GRPC_URLS'] as const) {
    if (config[variable] === undefined) ctx.addIssue({ code: 'custom', path: [variable], message: 'required with UPSTREAM_PROTOCOL=grpc, not set' });
  }
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
