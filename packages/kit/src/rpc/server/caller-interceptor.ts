import type { Interceptor } from '@connectrpc/connect';
import { checkCaller } from '../../auth/service-identity/service-identity.ts';
import { serviceTokenHeader } from '../../auth/service-identity/service-token.ts';
import type { ServiceTokenVerifier } from '../../auth/service-identity/verifier.ts';
import type { RouteCallers } from '../../service/route-callers.ts';

/** Who may call which method of a gRPC listener, and how their credentials are checked. */
export interface RpcCallerRules {
  /** By `<package.Service>/<Method>`; the health service the server adds is public. */
  callers: Readonly<Record<string, RouteCallers>>;
  verifier: ServiceTokenVerifier;
}

const healthService = 'grpc.health.v1.Health';

/** `baton.users.v1.UsersService/GetUser`: how a method is named in `callers`. */
export function rpcMethodName(service: string, method: string): string {
  return `${service}/${method}`;
}

/**
 * Every method the listener serves says who may call it, and nothing else is named: a method
 * forgotten, or a name misspelt, fails the start rather than leaving a method open or closed.
 */
export function checkRpcCallerDeclarations(service: string, served: readonly string[], callers: Readonly<Record<string, RouteCallers>>): void {
  const missing = served.filter((name) => !name.startsWith(`${healthService}/`) && callers[name] === undefined);
  const unknown = Object.keys(callers).filter((name) => !served.includes(name));
  if (missing.length > 0) throw new TypeError(`${service}: every gRPC method declares its callers (grpc.callers); these do not: ${missing.join(', ')}`);
  if (unknown.length > 0) throw new TypeError(`${service}: grpc.callers names methods it does not serve: ${unknown.join(', ')}`);
}

/**
 * The gRPC twin of the HTTP caller check, before the handler: UNAUTHENTICATED without a valid
 * `baton-service-token` in the metadata, PERMISSION_DENIED for a caller the method does not name.
 */
export function createCallerInterceptor({ callers, verifier }: RpcCallerRules): Interceptor {
  // Not an async function: a caller whose token was verified before costs no promise of its own.
  return (next) => function checkCallerOf(req) {
    if (req.service.typeName === healthService) return next(req);
    const allowed = callers[rpcMethodName(req.service.typeName, req.method.name)] ?? [];
    try {
      const caller = checkCaller(verifier, allowed, req.header.get(serviceTokenHeader) ?? undefined);
      return typeof caller === 'object' ? caller.then(() => next(req)) : next(req);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
}
