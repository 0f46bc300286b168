import { createServiceTokenVerifier } from '@baton/kit/auth';
import type { StatelessServiceDefinition } from '@baton/kit/service';
import { createAuthenticator } from './auth.ts';
import type { Config } from './config.ts';
import { installApiDocs } from './openapi.ts';
import { installRateLimits } from './rate-limits.ts';
import { registerApiRoutes } from './routes/api-routes.ts';
import { createUpstreams } from './upstreams.ts';

/**
 * The gateway keeps no data of its own: it verifies tokens against the users service's keys and
 * forwards, so it has no database, no migrations and no database in `/readyz`.
 */
export const gatewayService: StatelessServiceDefinition<Config> = {
  name: 'gateway',
  async setup(app, context) {
    const { config, createHttpClient } = context;
    const upstreams = createUpstreams(config, createHttpClient);
    const limits = await installRateLimits(app, {
      perAddressPerMinute: config.RATE_LIMIT_PER_ADDRESS_PER_MINUTE,
      perUserPerMinute: config.RATE_LIMIT_PER_USER_PER_MINUTE,
    });
    const verifier = createServiceTokenVerifier(context, { ...config, usersUrls: config.USERS_URLS });

    // Every API request counts against its address first.
    app.addHook('onRequest', async function limitByAddress(request) {
      if (request.url.startsWith('/api/')) await limits.checkAddress(request);
    });
    app.addHook('onRoute', function applyRouteSettings(route) {
      // The public API (its docs included) is the gateway's, open to anyone: it is the shop's
      // entry. Every call it forwards carries the gateway's own service token.
      if (route.url.startsWith('/api/')) route.config = { ...route.config, callers: 'public' };
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const deadlineMs = methods.map((m) => config.ROUTE_DEADLINES_MS[`${m} ${route.url}`]).find((ms) => ms !== undefined);
      if (deadlineMs !== undefined) route.config = { ...route.config, deadlineMs };
    });

    await installApiDocs(app);
    registerApiRoutes(app, upstreams, createAuthenticator(verifier, limits));
  },
};
