import { databaseConfigFields, env, loadConfig, serviceConfigFields, serviceIdentityFields, z } from '@baton/kit/config';
import { defaultTokenMaxAgeSeconds } from '@baton/kit/auth';
import { messagingConfigFields } from '@baton/kit/messaging';
import { readKeyEncryptionKey, readPreviousKeyEncryptionKey } from './tokens/key-encryption-key.ts';

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
  /** How long a refresh token may wait to be used; each use gives a new one (14 days by default). */
  REFRESH_TOKEN_TTL_SECONDS: env.positiveInt(14 * 86_400),
  /** The longest a session (a sign-in and its refreshes) lives, however often it is refreshed (30 days by default). */
  SESSION_MAX_AGE_SECONDS: env.positiveInt(30 * 86_400),
  /** The `iss` of every access token; verifiers expect exactly this. */
  TOKEN_ISSUER: z.string().min(1).default('baton-users'),
  /** The `aud` of every access token: the services it is for, comma-separated; each verifier looks for its own name. */
  TOKEN_AUDIENCES: z.string().default('gateway,users,inventory,orders,notifications,media').transform((raw, ctx) => {
    const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
    if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'expected at least one service name' });
    return names;
  }),
  /**
   * Emails (comma-separated) whose accounts are made `staff` when they sign up: they manage the
   * catalogue and its stock. For a shop's first staff account; an account that exists already
   * is not changed.
   */
  STAFF_EMAILS: z.string().default('').transform((raw, ctx) => {
    const emails = raw.split(',').map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== '');
    for (const entry of emails) {
      if (!z.email().safeParse(entry).success) ctx.addIssue({ code: 'custom', message: `${entry} is not an email` });
    }
    return new Set(emails);
  }),
  /** The name this service looks for in a token's `aud` when it checks one (`GET /v1/users/me`). */
  TOKEN_AUDIENCE: z.string().min(1).default('users'),
  /** How far clocks may disagree when `exp`, `nbf` and `iat` are checked here. */
  TOKEN_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /** The longest a token may live when checked here; at least TOKEN_TTL_SECONDS. As the other services' TOKEN_MAX_AGE_SECONDS. */
  TOKEN_MAX_AGE_SECONDS: env.positiveInt(defaultTokenMaxAgeSeconds).pipe(z.number().max(86_400, 'expected at most 86400 seconds (a day)')),
  /**
   * The key that encrypts the token signing keys in the database (AES-256-GCM): base64 of 32
   * random bytes, inline or in a file (a mounted secret). Required: the service does not start
   * without one. `npm start` makes one for development under var/secrets/.
   */
  TOKEN_KEY_ENCRYPTION_KEY: z.string().optional(),
  TOKEN_KEY_ENCRYPTION_KEY_FILE: z.string().min(1).optional(),
  /**
   * While the key-encryption key is changed: the one it replaces, inline or in a file. At start,
   * an active signing key sealed with it is sealed again with TOKEN_KEY_ENCRYPTION_KEY; once
   * every replica has started so, remove it.
   */
  TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS: z.string().optional(),
  TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS_FILE: z.string().min(1).optional(),
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
  /** Wrong sign-ins in a row an account (an email, known or not) may have before it must wait. */
  SIGN_IN_FREE_FAILURES: z.coerce.number({ error: 'expected a whole number' }).int('expected a whole number').min(0, 'expected 0 or more').default(5),
  /** The wait after the first wrong sign-in past the free ones; each further one doubles it. */
  SIGN_IN_BASE_DELAY_MS: env.positiveInt(1_000),
  /** The longest wait; an account whose last attempt is older than this starts over. */
  SIGN_IN_MAX_DELAY_MS: env.positiveInt(15 * 60_000),
}).superRefine((config, ctx) => {
  // Only when both are sound: a TTL out of range is its own problem, said once.
  if (config.TOKEN_TTL_SECONDS <= 86_400 && config.TOKEN_MAX_AGE_SECONDS < config.TOKEN_TTL_SECONDS) {
    ctx.addIssue({ code: 'custom', path: ['TOKEN_MAX_AGE_SECONDS'], message: 'expected at least TOKEN_TTL_SECONDS' });
  }
  if (config.SESSION_MAX_AGE_SECONDS < config.REFRESH_TOKEN_TTL_SECONDS) {
    ctx.addIssue({ code: 'custom', path: ['SESSION_MAX_AGE_SECONDS'], message: 'expected at least REFRESH_TOKEN_TTL_SECONDS' });
  }
  try {
    readKeyEncryptionKey(config);
  } catch (error) {
    const variable = config.TOKEN_KEY_ENCRYPTION_KEY_FILE !== undefined && config.TOKEN_KEY_ENCRYPTION_KEY === undefined ? 'TOKEN_KEY_ENCRYPTION_KEY_FILE' : 'TOKEN_KEY_ENCRYPTION_KEY';
    ctx.addIssue({ code: 'custom', path: [variable], message: (error as Error).message });
  }
  try {
    readPreviousKeyEncryptionKey(config);
  } catch (error) {
    const variable = config.TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS_FILE !== undefined && config.TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS === undefined ? 'TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS_FILE' : 'TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS';
    ctx.addIssue({ code: 'custom', path: [variable], message: (error as Error).message });
  }
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
