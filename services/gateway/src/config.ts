import { accessTokenConfigFields } from '@baton/kit/auth';
import { env, loadConfig, serviceConfigFields, serviceIdentityFields, z } from '@baton/kit/config';

/**
 * Every variable the gateway reads, checked once at start. The gateway is the one public entry,
 * so it must be told where every service behind it is.
 */
export const configSchema = z.object({
  ...serviceConfigFields({ name: 'gateway', port: 8080 }),
  ...serviceIdentityFields({ trustRequired: false }),
  USERS_URLS: env.urlList(),
  INVENTORY_URLS: env.urlList(),
  ORDERS_URLS: env.urlList(),
  NOTIFICATIONS_URLS: env.urlList(),
  /** The media instances (product images). Unset: a shop without them, whose image routes answer 503. */
  MEDIA_URLS: env.urlList().optional(),
  /** USERS_JWKS_URL, TOKEN_*: how access tokens are checked (the kit's, with `gateway` as the audience). */
  ...accessTokenConfigFields({ audience: 'gateway' }),
  /** Requests per minute from one client address, over the whole API. */
  RATE_LIMIT_PER_ADDRESS_PER_MINUTE: env.positiveInt(600),
  /** Requests per minute from one signed-in user. */
  RATE_LIMIT_PER_USER_PER_MINUTE: env.positiveInt(300),
  /** Registrations (POST /api/v1/users) per hour from one client address. */
  REGISTRATIONS_PER_ADDRESS_PER_HOUR: env.positiveInt(20),
  /** Wrong sign-ins one client address may make before it must wait (the users service limits each account too). */
  SIGN_IN_FREE_FAILURES_PER_ADDRESS: env.positiveInt(20),
  /** The first wait past those; each further wrong sign-in doubles it. */
  SIGN_IN_BASE_DELAY_MS: env.positiveInt(1_000),
  /** The longest wait; an address quiet this long starts over. */
  SIGN_IN_MAX_DELAY_MS: env.positiveInt(15 * 60_000),
  /**
   * The public entry does not continue a trace from the internet: it starts its own and keeps the
   * one it was sent only as a link. Set true only behind a proxy that sets trace context itself.
   */
  TRUST_INBOUND_TRACE_CONTEXT: env.boolean(false),
  /** The largest request body accepted; larger ones get 413. The kit's variable, with the gateway's own default. */
  BODY_LIMIT_BYTES: env.positiveInt(64 * 1024),
  /**
   * Per-route deadlines, the first budget a request gets, as JSON: `{"POST /api/v1/orders": 8000}`.
   * Routes not named get REQUEST_DEADLINE_MS.
   */
  ROUTE_DEADLINES_MS: env.json(z.record(z.string(), z.number().int().min(1).max(300_000))).default({ 'POST /api/v1/orders': 8_000 }),
  /** The largest image upload let through to media (the one route with a body this large; media checks it again). */
  MAX_UPLOAD_BYTES: env.positiveInt(50 * 1024 * 1024),
  /** An upload whose bytes stop arriving for this long is cut off (408). */
  UPLOAD_IDLE_TIMEOUT_MS: env.positiveInt(30_000),
  /** The longest a whole upload may take, however steadily its bytes arrive. */
  UPLOAD_DEADLINE_MS: env.positiveInt(600_000),
  /**
   * What all uploads passing through together may send on each second (320 Mbit/s by default;
   * 0: no bound). The upload bytes cross the process every checkout crosses: unbounded, ten
   * uploads over loopback took 0.52 of this machine's 2 cores in the gateway alone
   * (bench/README.md, checkout-beside-uploads). An upload held back is read more slowly (TCP
   * tells its client to slow down); none is refused for it.
   */
  UPLOAD_BYTES_PER_SECOND: z.coerce.number({ error: 'expected a whole number of bytes per second (0: no bound)' })
    .int('expected a whole number of bytes per second (0: no bound)').min(0, 'expected a whole number of bytes per second (0: no bound)')
    .default(40_000_000),
  /** The longest one call to a service may take within a request's deadline. */
  UPSTREAM_TIMEOUT_MS: env.milliseconds(8_000),
  /**
   * How long a call to a service keeps trying an instance that refuses connections (one
   * restarting) before the request is told it is unavailable (503); within UPSTREAM_TIMEOUT_MS
   * and the request's deadline. A host that restarts services slowly wants it longer (as orders'
   * variable of the same name).
   */
  UPSTREAM_UNREACHABLE_WINDOW_MS: env.milliseconds(5_000),
  /** A file to note each public route and status answered in (src/answer-record.ts): for `npm test`'s check of the API document; unset in any deployment. */
  ANSWER_RECORD_FILE: z.string().min(1).optional(),
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
