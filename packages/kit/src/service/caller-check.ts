import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { checkCaller } from '../auth/service-identity/service-identity.ts';
import { serviceTokenHeader } from '../auth/service-identity/service-token.ts';
import type { ServiceTokenVerifier } from '../auth/service-identity/verifier.ts';
import type { RouteCallers } from './route-callers.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The Baton service that made this call, once its credential was checked; undefined on a public route. */
    serviceCaller?: string | undefined;
  }
}

/**
 * Every route says who may call it (`config.callers`), and the service does not start if one
 * does not: a route forgotten would otherwise be open, or closed to its callers, silently.
 */
export function requireCallerDeclarations(app: FastifyInstance, service: string): void {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', function noteUndeclared(route: RouteOptions) {
    // Fastify's own HEAD twin of a GET route shares its config; the check reads the final
    // config of each route, after every later onRoute hook (a service's own) had its say.
    routes.push(route);
  });
  app.addHook('onReady', function checkDeclarations(done) {
    const missing = routes.filter((route) => route.config?.callers === undefined);
    if (missing.length === 0) {
      done();
      return;
    }
    const names = missing.map((route) => `${[route.method].flat().join(',')} ${route.url}`);
    done(new TypeError(`${service}: every route declares its callers (config.callers); these do not: ${names.join('; ')}`));
  });
}

/**
 * The service-identity check of a request to a route declaring `callers`, before any work the
 * route does: a public route lets anyone in;
 * any other wants a valid `baton-service-token` (401 without, or with a bad or expired one) of
 * a service it names (403 for another). Returns the caller's name (undefined on a public or an
 * unmatched route, which goes on to its 404), a promise of it for a token not seen before, or
 * throws. A caller's token seen before costs a map lookup: no signature check and no promise.
 */
export function callerOf(verifier: ServiceTokenVerifier, callers: RouteCallers | undefined, request: FastifyRequest): string | undefined | Promise<string> {
  if (callers === undefined || callers === 'public') return undefined;
  const header = request.headers[serviceTokenHeader];
  return checkCaller(verifier, callers, typeof header === 'string' ? header : undefined);
}
