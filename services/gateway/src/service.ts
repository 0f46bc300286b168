import { createServiceTokenVerifier } from '@baton/kit/auth';
import type { StatelessServiceDefinition } from '@baton/kit/service';
import { installAnswerRecord } from './answer-record.ts';
import { createAuthenticator } from './auth.ts';
import type { Config } from './config.ts';
import { installApiDocs } from './openapi.ts';
import { presentPublicProblem } from './public-problem.ts';
import { installRateLimits, matchedRouteOf } from './rate-limits.ts';
import { registerApiRoutes } from './routes/api-routes.ts';
import { registerImageRoutes } from './routes/image-routes.ts';
import { createAddressThrottle } from './sign-in-throttle.ts';
import { registerStorefront } from './storefront/register-storefront.ts';
import { createSessions } from './storefront/session.ts';
import { createUpstreams } from './upstreams.ts';

// The platform's probes; metrics and admin routes are on the admin listener, not this port.
const operationalRoutes = new Set(['GET /healthz', 'GET /readyz']);

/**
 * The gateway keeps no data of its own: it verifies tokens against the users service's keys and
 * forwards, so it has no database, no migrations and no database in `/readyz`.
 */
export const gatewayService: StatelessServiceDefinition<Config> = {
  name: 'gateway',
  // The one public edge: its problems are in the public API's words.
  presentProblem: presentPublicProblem,
  async setup(app, context) {
    const { config, createHttpClient } = context;
    const upstreams = createUpstreams(config, createHttpClient);
    const limits = await installRateLimits(app, {
      perAddressPerMinute: config.RATE_LIMIT_PER_ADDRESS_PER_MINUTE,
      perUserPerMinute: config.RATE_LIMIT_PER_USER_PER_MINUTE,
      // Registration answers 409 for a taken email (docs/security.md says why): few tries an
      // hour from one address keep that from being a way to list the shop's accounts.
      // The storefront's sign-up form counts in the same bucket: the page is no way around the limit.
      perRoute: Object.fromEntries(['POST /api/v1/users', 'POST /sign-up'].map((route) => [
        route, { max: config.REGISTRATIONS_PER_ADDRESS_PER_HOUR, windowMs: 3_600_000, bucket: 'registrations' },
      ])),
    });
    const verifier = createServiceTokenVerifier(context, { ...config, usersUrls: config.USERS_URLS });

    // Every request counts against its address first, whatever its path says and whether or not
    // a route matched; only the probes of the platform (health, readiness) do not.
    app.addHook('onRequest', async function limitByAddress(request) {
      if (!operationalRoutes.has(matchedRouteOf(request) ?? '')) await limits.checkAddress(request);
    });
    app.addHook('onRoute', function applyRouteSettings(route) {
      // The public API (its docs included) is the gateway's, open to anyone: it is the shop's
      // entry. Every call it forwards carries the gateway's own service token.
      if (route.url.startsWith('/api/')) route.config = { ...route.config, callers: 'public' };
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const deadlineMs = methods.map((m) => config.ROUTE_DEADLINES_MS[`${m} ${route.url}`]).find((ms) => ms !== undefined);
      if (deadlineMs !== undefined) route.config = { ...route.config, deadlineMs };
    });

    if (config.ANSWER_RECORD_FILE) installAnswerRecord(app, config.ANSWER_RECORD_FILE);
    await installApiDocs(app);
    const signIn = createAddressThrottle({
      freeFailures: config.SIGN_IN_FREE_FAILURES_PER_ADDRESS, baseDelayMs: config.SIGN_IN_BASE_DELAY_MS, maxDelayMs: config.SIGN_IN_MAX_DELAY_MS,
    });
    const authenticate = createAuthenticator(verifier, limits);
    registerApiRoutes(app, upstreams, authenticate, signIn);
    registerImageRoutes(app, {
      media: upstreams.media, authenticate,
      maxUploadBytes: config.MAX_UPLOAD_BYTES, uploadIdleTimeoutMs: config.UPLOAD_IDLE_TIMEOUT_MS, uploadDeadlineMs: config.UPLOAD_DEADLINE_MS,
      uploadBytesPerSecond: config.UPLOAD_BYTES_PER_SECOND,
    });
    await registerStorefront(app, { upstreams, authenticate, signIn, sessions: createSessions({ authenticate, users: upstreams.users }) });
  },
};
