import { accessTokenConfigFields } from '@baton/kit/auth';
import { databaseConfigFields, env, loadConfig, serviceConfigFields, serviceIdentityFields, z } from '@baton/kit/config';

/** Every variable the inventory service reads, checked once at start. */
export const configSchema = z.object({
  ...serviceConfigFields({ name: 'inventory', port: 8082 }),
  ...serviceIdentityFields(),
  ...databaseConfigFields(),
  /** The gRPC listener (gRPC, gRPC-Web and Connect over HTTP/2 cleartext), beside PORT's HTTP. */
  GRPC_PORT: env.port(9082),
  /** Base URLs of the users service instances, comma-separated: where staff's tokens are checked against (keys, revocations). */
  USERS_URLS: env.urlList(),
  /** USERS_JWKS_URL, TOKEN_*: how staff's access tokens are checked (the kit's, with `inventory` as the audience). */
  ...accessTokenConfigFields({ audience: 'inventory' }),
  /** How long a reservation holds its stock unless it is confirmed; a request may ask for another TTL. */
  RESERVATION_TTL_SECONDS: env.positiveInt(900),
  /**
   * The longest hold a request may ask for (`ttlSeconds`); past it the request is refused (400,
   * gRPC INVALID_ARGUMENT, naming the field). At most 4 hours: whoever may reserve could
   * otherwise keep any stock off the shelf for as long as it likes.
   */
  RESERVATION_MAX_TTL_SECONDS: env.positiveInt(3_600).pipe(z.number().max(14_400, 'expected at most 14400 (4 hours)')),
  /** How often the sweeper looks for held reservations past their TTL and gives their stock back. */
  RESERVATION_SWEEP_INTERVAL_MS: env.positiveInt(5_000),
  /** How many expired reservations one sweeper transaction releases. */
  RESERVATION_SWEEP_BATCH_SIZE: env.positiveInt(100),
}).refine((config) => config.RESERVATION_TTL_SECONDS <= config.RESERVATION_MAX_TTL_SECONDS, {
  path: ['RESERVATION_TTL_SECONDS'], message: 'expected at most RESERVATION_MAX_TTL_SECONDS',
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
