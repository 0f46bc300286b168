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
   * How orders calls users, inventory and payment: `http` (the default; HTTP/JSON at `*_URLS`)
   * or `grpc` (their gRPC listeners, at `*_GRPC_URLS`). Both go through the kit's clients, with
   * the same deadline, retries, breakers, balancing and service identity. HTTP is the default
   * because it cost less CPU a checkout, measured (docs/architecture.md, "What gRPC costs and
   * earns here").
   */
  UPSTREAM_PROTOCOL: z.enum(['grpc', 'http'], { error: 'expected grpc or http' }).default('http'),
  /** gRPC addresses of the users service instances, comma-separated; required with `grpc`. */
  USERS_GRPC_URLS: env.urlList().optional(),
  /** gRPC addresses of the inventory service instances, comma-separated; required with `grpc`. */
  INVENTORY_GRPC_URLS: env.urlList().optional(),
  /**
   * Whether checkout takes payment (`on`, the default: `payment` is required in an order, and
   * the payment service is called at `PAYMENT_GRPC_URLS` or `PAYMENT_URLS`), or not (`off`:
   * orders are placed unpaid, `confirmed`, and a `payment` is refused). See docs/checkout.md.
   */
  CHECKOUT_PAYMENT: z.enum(['on', 'off'], { error: 'expected on or off' }).default('on'),
  /** Base URLs of the payment service instances, comma-separated; required with `http` and payment on. */
  PAYMENT_URLS: env.urlList().optional(),
  /** gRPC addresses of the payment service instances, comma-separated; required with `grpc` and payment on. */
  PAYMENT_GRPC_URLS: env.urlList().optional(),
  /** The longest one call to payment may take: above its own to the provider, so it answers first. */
  PAYMENT_TIMEOUT_MS: env.milliseconds(4_000),
  /** A checkout with payment nobody has moved for this long lost its driver (a crash): the reconciler takes it up. Above CHECKOUT_DEADLINE_MS. */
  CHECKOUT_STALE_AFTER_MS: env.milliseconds(10_000),
  /** How often the reconciler looks for such checkouts. */
  CHECKOUT_RECONCILE_INTERVAL_MS: env.milliseconds(2_000),
  /** A checkout not past recording its order by this age is given up: its payment let go, its stock released. */
  CHECKOUT_GIVE_UP_AFTER_MS: env.milliseconds(120_000),
  /** USERS_JWKS_URL, TOKEN_*: how access tokens are checked (the kit's, with `orders` as the audience). */
  ...accessTokenConfigFields({ audience: 'orders' }),
  /** The longest a checkout may take, whatever budget the caller sends. */
  CHECKOUT_DEADLINE_MS: env.milliseconds(8_000),
  /** The longest one call to users or inventory may take within that. */
  UPSTREAM_TIMEOUT_MS: env.milliseconds(3_000),
  /**
   * How long a call to users or inventory keeps trying an instance that refuses connections (one
   * restarting) before the checkout is told it is unavailable; within UPSTREAM_TIMEOUT_MS and the
   * checkout's deadline. A host that restarts services slowly wants it longer.
   */
  UPSTREAM_UNREACHABLE_WINDOW_MS: env.milliseconds(5_000),
  /**
   * How long an Idempotency-Key whose request never finished (its process died) stays claimed
   * before a retry may take it over. Keep it above CHECKOUT_DEADLINE_MS, so a request still at
   * work is never taken over.
   */
  IDEMPOTENCY_STALE_AFTER_MS: env.milliseconds(30_000),
}).superRefine((config, ctx) => {
  if (config.CHECKOUT_STALE_AFTER_MS <= config.CHECKOUT_DEADLINE_MS) {
    ctx.addIssue({ code: 'custom', path: ['CHECKOUT_STALE_AFTER_MS'], message: 'must be above CHECKOUT_DEADLINE_MS, or a checkout still at work would be taken up' });
  }
  if (config.CHECKOUT_PAYMENT === 'on' && config.UPSTREAM_PROTOCOL === 'http' && config.PAYMENT_URLS === undefined) {
    ctx.addIssue({ code: 'custom', path: ['PAYMENT_URLS'], message: 'required with CHECKOUT_PAYMENT=on and UPSTREAM_PROTOCOL=http, not set' });
  }
  if (config.UPSTREAM_PROTOCOL !== 'grpc') return;
  const needed = ['USERS_GRPC_URLS', 'INVENTORY_GRPC_URLS', ...(config.CHECKOUT_PAYMENT === 'on' ? ['PAYMENT_GRPC_URLS'] as const : [])] as const;
  for (const variable of needed) {
    if (config[variable] === undefined) ctx.addIssue({ code: 'custom', path: [variable], message: `required with UPSTREAM_PROTOCOL=grpc${variable === 'PAYMENT_GRPC_URLS' ? ' and CHECKOUT_PAYMENT=on' : ''}, not set` });
  }
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
