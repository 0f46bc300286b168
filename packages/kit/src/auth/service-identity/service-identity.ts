import { Code, KitError } from '../../errors/index.ts';
import type { RouteCallers } from '../../service/route-callers.ts';
import type { ServiceTokenSource } from './minter.ts';
import { serviceTokenRequired, type ServiceTokenVerifier } from './verifier.ts';

/** A service's identity, made once at start from `SERVICE_KEY` and `SERVICE_TRUST`. */
export interface ServiceIdentity {
  service: string;
  /** Its tokens for the services it calls (the kit's clients send them). */
  tokens: ServiceTokenSource;
  /** The check of the tokens its callers send. */
  verifier: ServiceTokenVerifier;
}

const notAllowed = () => new KitError(Code.PermissionDenied, 'this service may not call this route', { reason: 'caller_not_allowed' });

/** Whether a verified caller is one a route's `callers` lets in. */
export function callerAllowed(callers: RouteCallers, caller: string): boolean {
  return callers === 'any-service' || (callers !== 'public' && callers.includes(caller));
}

function admit(callers: RouteCallers, caller: string): string {
  if (!callerAllowed(callers, caller)) throw notAllowed();
  return caller;
}

/**
 * The one check, for HTTP and gRPC alike: a public route lets anyone in (undefined); any other
 * wants a valid token (else `unauthenticated`) of a caller it names (else `permission_denied`),
 * and gives the caller's name. A token verified before answers at once, with no promise.
 */
export function checkCaller(verifier: ServiceTokenVerifier, callers: RouteCallers, token: string | undefined): string | undefined | Promise<string> {
  if (callers === 'public') return undefined;
  if (token === undefined || token === '') throw serviceTokenRequired();
  const known = verifier.cached(token);
  if (known !== undefined) return admit(callers, known);
  return verifier.verify(token).then((caller) => admit(callers, caller));
}
