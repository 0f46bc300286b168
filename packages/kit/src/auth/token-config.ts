import { z } from 'zod';
import { env } from '../config/fields.ts';
import { defaultTokenMaxAgeSeconds } from './verify-access-token.ts';

/**
 * The variables of a service that verifies access tokens (the gateway, orders, notifications;
 * users checks its own from its database), spread into its config schema. `audience` is the
 * service's own name: users lists in each token's `aud` the services it is for.
 */
export function accessTokenConfigFields({ audience }: { audience: string }) {
  return {
    /** Where the users service publishes its token keys; by default the first users instance's JWKS. */
    USERS_JWKS_URL: env.url().optional(),
    /** The `iss` tokens must carry: the users service's TOKEN_ISSUER. */
    TOKEN_ISSUER: z.string().min(1).default('baton-users'),
    /** The name this service looks for in a token's `aud`: its own, which users must list in TOKEN_AUDIENCES. */
    TOKEN_AUDIENCE: z.string().min(1).default(audience),
    /** How far this host's clock may be from the users service's when `exp`, `nbf` and `iat` are checked. */
    TOKEN_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
    /** The longest a token may live (`exp − iat`, and now − `iat`); at least the users service's TOKEN_TTL_SECONDS. */
    TOKEN_MAX_AGE_SECONDS: env.positiveInt(defaultTokenMaxAgeSeconds).pipe(z.number().max(86_400, 'expected at most 86400 seconds (a day)')),
    /** How often revoked tokens (sign-outs, password changes) are fetched from the users service. */
    TOKEN_REVOCATIONS_POLL_MS: env.milliseconds(15_000).pipe(z.number().min(100, 'expected at least 100 ms').max(30_000, 'expected at most 30000 ms')),
    /**
     * How old the known revocations may be before a token is refused with 503 rather than
     * accepted on old news: the most a revocation may take to reach this service.
     */
    TOKEN_REVOCATIONS_STALE_AFTER_MS: env.milliseconds(45_000).pipe(z.number().min(1_000, 'expected at least 1000 ms').max(60_000, 'expected at most 60000 ms (a minute)')),
  };
}

export type AccessTokenConfig = Readonly<z.output<z.ZodObject<ReturnType<typeof accessTokenConfigFields>>>>;
