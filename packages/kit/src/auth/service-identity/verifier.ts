import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { Code, KitError } from '../../errors/index.ts';
import { createVerifiedTokenCache } from '../verified-token-cache.ts';
import type { ServiceTrust } from './keys.ts';
import { serviceTokenAlgorithm, serviceTokenClockSkewSeconds, serviceTokenMaxLifetimeSeconds, serviceTokenType } from './service-token.ts';

export interface ServiceTokenVerifierOptions {
  /** This service: the audience every token it accepts must name. */
  service: string;
  trust: ServiceTrust;
  clockSkewSeconds?: number;
  maxLifetimeSeconds?: number;
  /** How many verified tokens are remembered (each until it expires). */
  cacheSize?: number;
  now?: () => number;
}

export interface ServiceTokenVerifier {
  /** The caller a token already verified speaks for, while it is valid: no work. Else undefined. */
  cached(token: string): string | undefined;
  /** Verifies a token and remembers it; resolves to the caller, or throws `unauthenticated`. */
  verify(token: string): Promise<string>;
}

export const serviceTokenRequired = () => new KitError(Code.Unauthenticated, 'a service credential is required', { reason: 'service_token_required' });
const invalidToken = () => new KitError(Code.Unauthenticated, 'the service credential is not valid', { reason: 'service_token_invalid' });

/**
 * Checks the service tokens sent to this service: signed (EdDSA) by a key this service trusts
 * for the caller the token names, of type `svc+jwt`, for this audience, within its lifetime
 * (a little clock skew allowed) and claiming no longer a lifetime than the maximum. A verified
 * token is remembered until it expires (`verified-token-cache.ts`), so a caller's requests cost
 * one signature check every few minutes, not one each; the memory is bounded.
 *
 * @example
 * const verifier = createServiceTokenVerifier({ service: 'inventory', trust: config.SERVICE_TRUST });
 * const caller = verifier.cached(token) ?? await verifier.verify(token);
 */
export function createServiceTokenVerifier({
  service,
  trust,
  clockSkewSeconds = serviceTokenClockSkewSeconds,
  maxLifetimeSeconds = serviceTokenMaxLifetimeSeconds,
  cacheSize = 1_024,
  now = () => Date.now(),
}: ServiceTokenVerifierOptions): ServiceTokenVerifier {
  const verified = createVerifiedTokenCache<string>({ maxEntries: cacheSize, now });

  async function verify(token: string): Promise<string> {
    let kid: string | undefined;
    let caller: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
      caller = decodeJwt(token).iss;
    } catch {
      throw invalidToken();
    }
    // The key is the one this service holds for the caller the token names: a key of another
    // caller cannot sign for it, and a token naming no trusted caller costs no signature check.
    const key = typeof caller === 'string' && kid !== undefined ? trust.get(caller)?.get(kid) : undefined;
    if (key === undefined || typeof caller !== 'string') throw invalidToken();
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [serviceTokenAlgorithm],
        typ: serviceTokenType,
        issuer: caller,
        subject: caller,
        audience: service,
        clockTolerance: clockSkewSeconds,
        maxTokenAge: maxLifetimeSeconds,
        requiredClaims: ['iss', 'sub', 'aud', 'iat', 'exp', 'jti'],
        currentDate: new Date(now()),
      }));
    } catch {
      throw invalidToken();
    }
    const { iat, exp } = payload as { iat: number; exp: number };
    if (exp - iat > maxLifetimeSeconds) throw invalidToken();
    verified.remember(token, caller, (exp + clockSkewSeconds) * 1000);
    return caller;
  }

  return {
    cached: (token) => verified.get(token),
    verify,
  };
}
