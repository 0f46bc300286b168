import { databaseConfigFields, env, loadConfig, serviceConfigFields, serviceIdentityFields, z } from '@baton/kit/config';
import { messagingConfigFields } from '@baton/kit/messaging';

/** Every variable the users service reads, checked once at start. */
export const configSchema = z.object({
  ...serviceConfigFields({ name: 'users', port: 8081 }),
  ...serviceIdentityFields(),
  ...databaseConfigFields(),
  /** The gRPC listener (gRPC, gRPC-Web and Connect over HTTP/2 cleartext), beside PORT's HTTP. */
  GRPC_PORT: env.port(9081),
  /** Where user events go: NATS_URL, AMQP_URL, or neither (the HTTP feed); see docs/messaging.md. */
  ...messagingConfigFields(),
  /** How long an access token is valid. Short, because a signed token cannot be taken back. */
  TOKEN_TTL_SECONDS: env.positiveInt(900).pipe(z.number().max(86_400, 'expected at most 86400 seconds (a day)')),
  /** The `iss` of every access token; verifiers expect exactly this. */
  TOKEN_ISSUER: z.string().min(1).default('baton-users'),
  /** The `aud` of every access token; verifiers expect exactly this. */
  TOKEN_AUDIENCE: z.string().min(1).default('baton'),
  /**
   * scrypt's cost N as a power of two (15: N = 32768, 32 MiB and about 100 ms a hash). Raising
   * it is safe at any time: a stored hash names its own parameters, and one made with others is
   * redone at the user's next sign-in. Below 14 a stolen table would be too cheap to attack.
   */
  PASSWORD_SCRYPT_LOG2_N: env.positiveInt(15).pipe(z.number().min(14, 'expected at least 14').max(20, 'expected at most 20')),
  /**
   * How many password hashes may run at once. Each holds a thread of libuv's pool (4 by
   * default) and 128·N·r bytes; leaving threads free keeps file and DNS work moving during a
   * burst of sign-ins. Further hashes wait their turn within their request's deadline.
   */
  PASSWORD_HASH_CONCURRENCY: env.positiveInt(2).pipe(z.number().max(64, 'expected at most 64')),
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
