import { databaseConfigFields, env, loadConfig, serviceConfigFields, serviceIdentityFields, z } from '@baton/kit/config';

/** Every variable the inventory service reads, checked once at start. */
export const configSchema = z.object({
  ...serviceConfigFields({ name: 'inventory', port: 8082 }),
  ...serviceIdentityFields(),
  ...databaseConfigFields(),
  /** The gRPC listener (gRPC, gRPC-Web and Connect over HTTP/2 cleartext), beside PORT's HTTP. */
  GRPC_PORT: env.port(9082),
  /** How long a reservation holds its stock unless it is confirmed; a request may ask for another TTL. */
  RESERVATION_TTL_SECONDS: env.positiveInt(900),
  /** How often the sweeper looks for held reservations past their TTL and gives their stock back. */
  RESERVATION_SWEEP_INTERVAL_MS: env.positiveInt(5_000),
  /** How many expired reservations one sweeper transaction releases. */
  RESERVATION_SWEEP_BATCH_SIZE: env.positiveInt(100),
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
