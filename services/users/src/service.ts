import { fileURLToPath } from 'node:url';
import { Counter } from 'prom-client';
import { UsersService } from '@baton/contracts/users/v1';
import { startPublishing } from '@baton/kit/messaging';
import type { ServiceDefinition } from '@baton/kit/service';
import type { Config } from './config.ts';
import { createPasswordHasher } from './password-hasher.ts';
import { registerAdminKeyRoutes } from './routes/admin-keys.ts';
import { registerJwksRoute } from './routes/jwks.ts';
import { registerLoginRoute } from './routes/login.ts';
import { registerPasswordRoute } from './routes/password.ts';
import { registerRefreshRoute } from './routes/refresh.ts';
import { registerRegisterRoute } from './routes/register.ts';
import type { SessionSettings } from './tokens/sessions.ts';
import { registerSignOutRoute } from './routes/sign-out.ts';
import { registerTokenRevocationsRoute } from './routes/token-revocations.ts';
import { registerUserRoutes } from './routes/users.ts';
import { createUsersRpc } from './rpc/users-rpc.ts';
import { createSignInThrottle } from './sign-in-throttle.ts';
import { createAccessTokenIssuer } from './tokens/access-tokens.ts';
import { createOwnTokenVerifier } from './tokens/own-token-verifier.ts';
import { readKeyEncryptionKey, readPreviousKeyEncryptionKey } from './tokens/key-encryption-key.ts';
import { ensureActiveKeyOpens, ensureSigningKey } from './tokens/signing-keys.ts';

// A retired key stays published this much longer than the token lifetime, for clocks that
// disagree (this host's, the database's, a verifier's) and verifiers' clock tolerance.
const publicationSlackSeconds = 60;

/** The users service: accounts, their passwords, and the access tokens that prove a sign-in. */
export const usersService: ServiceDefinition<Config> = {
  name: 'users',
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  async setup(app, context) {
    const { config, db, logger, metrics } = context;
    // Checked by the config schema already; read here once, kept only in this closure.
    const keyEncryptionKey = readKeyEncryptionKey(config);
    const { created } = await ensureSigningKey(db, keyEncryptionKey);
    if (created) logger.info('generated a signing key');
    // A key-encryption key that does not open the active key stops the start here, rather than
    // failing every sign-in later (KeySealingError says which key); one sealed with the previous
    // key-encryption key is sealed again with the current one.
    const { resealed } = await ensureActiveKeyOpens(db, keyEncryptionKey, readPreviousKeyEncryptionKey(config));
    if (resealed) logger.warn('sealed the active signing key again with the new TOKEN_KEY_ENCRYPTION_KEY; TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS may go once every replica has started');

    const hashes = new Counter({
      name: 'users_password_hashes_total',
      help: 'scrypt password hashes computed, by purpose (hash: a new password; verify: a sign-in, against a dummy hash when the email is unknown).',
      labelNames: ['purpose'],
      registers: [metrics.registry],
    });
    const passwords = await createPasswordHasher({
      log2N: config.PASSWORD_SCRYPT_LOG2_N,
      maxConcurrent: config.PASSWORD_HASH_CONCURRENCY,
      onHash: (purpose) => hashes.inc({ purpose }),
    });
    const issuer = config.TOKEN_ISSUER;
    const retiredForSeconds = config.TOKEN_TTL_SECONDS + publicationSlackSeconds;
    const tokens = createOwnTokenVerifier(db, {
      issuer,
      audience: config.TOKEN_AUDIENCE,
      clockToleranceSeconds: config.TOKEN_CLOCK_TOLERANCE_SECONDS,
      maxAgeSeconds: config.TOKEN_MAX_AGE_SECONDS,
      retiredForSeconds,
    });
    const issuedTokens = createAccessTokenIssuer(db, keyEncryptionKey, { issuer, audience: config.TOKEN_AUDIENCES, ttlSeconds: config.TOKEN_TTL_SECONDS });
    // A revocation is published as long as a token it matches may still be accepted anywhere.
    const tokenLifetimeSeconds = config.TOKEN_MAX_AGE_SECONDS + publicationSlackSeconds;

    const { outbox, relay } = await startPublishing(app, context, { domain: 'users', readers: ['notifications'] });
    const sessions: SessionSettings = {
      refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      sessionMaxAgeSeconds: config.SESSION_MAX_AGE_SECONDS,
      tokenLifetimeSeconds,
    };
    registerRegisterRoute(app, { db, passwords, events: { outbox, committed: () => relay.wake() }, staffEmails: config.STAFF_EMAILS, tokens: issuedTokens, sessions });
    const throttle = createSignInThrottle({
      freeFailures: config.SIGN_IN_FREE_FAILURES, baseDelayMs: config.SIGN_IN_BASE_DELAY_MS, maxDelayMs: config.SIGN_IN_MAX_DELAY_MS,
    });
    registerLoginRoute(app, { db, passwords, throttle, tokens: issuedTokens, sessions });
    registerRefreshRoute(app, { db, tokens: issuedTokens, sessions });
    registerSignOutRoute(app, { db, tokens, slackSeconds: publicationSlackSeconds, tokenLifetimeSeconds: config.TOKEN_MAX_AGE_SECONDS });
    registerPasswordRoute(app, { db, passwords, tokens, tokenLifetimeSeconds });
    registerUserRoutes(app, { db, tokens });
    registerJwksRoute(app, { db, retiredForSeconds });
    registerTokenRevocationsRoute(app, { db });
    registerAdminKeyRoutes(context.adminApp, { db, keyEncryptionKey });
  },
  grpc: {
    port: (config) => config.GRPC_PORT,
    routes(router, { db }) {
      router.service(UsersService, createUsersRpc({ db }));
    },
    callers: { 'baton.users.v1.UsersService/GetUser': ['orders'] },
  },
};
