import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { detachedTimeout } from '../detached-timer.ts';
import type { ServiceKey } from './keys.ts';
import { serviceTokenAlgorithm, serviceTokenLifetimeSeconds, serviceTokenRenewBeforeSeconds, serviceTokenType } from './service-token.ts';

/** Where a caller's credential for a callee comes from. */
export interface ServiceTokenSource {
  /**
   * The token to send to `audience`: the cached one while it has time left (a string, no work);
   * a promise only when there is none yet or it expired. Once it nears its end a new one is
   * minted in the background while the old one is still sent.
   */
  tokenFor(audience: string): string | Promise<string>;
  /** Forgets the token for `audience` (it refused it): the next call mints a new one. */
  forget?(audience: string): void;
}

export interface ServiceTokenMinterOptions {
  /** The calling service: `iss` and `sub`. */
  service: string;
  key: ServiceKey;
  lifetimeSeconds?: number;
  renewBeforeSeconds?: number;
  /** Wall-clock milliseconds; tokens speak of wall time. */
  now?: () => number;
}

interface Cached {
  token: string;
  /** Set by a timer once the token nears its end: the next call begins its renewal. */
  renewDue: boolean;
  renewing: Promise<string> | undefined;
  timers: [renew: NodeJS.Timeout, expire: NodeJS.Timeout];
}

/** Signs one service token; the only place one is made. */
export function mintServiceToken({ service, key, audience, issuedAtSeconds, lifetimeSeconds }: { service: string; key: ServiceKey; audience: string; issuedAtSeconds: number; lifetimeSeconds: number }): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: serviceTokenAlgorithm, typ: serviceTokenType, kid: key.kid })
    .setIssuer(service)
    .setSubject(service)
    .setAudience(audience)
    .setIssuedAt(issuedAtSeconds)
    .setExpirationTime(issuedAtSeconds + lifetimeSeconds)
    // 96 random bits: a token's id only has to be unique. A UUID's 36 characters would be 20 more
    // on every call between services, each read and copied at both ends (the token's bytes are
    // most of what identity costs a call: `service-identity` in bench/).
    .setJti(randomBytes(12).toString('base64url'))
    .sign(key.privateKey);
}

/**
 * A service's tokens for the services it calls, one per callee, cached and renewed before they
 * expire: a call never waits for a signature except the first to a callee.
 *
 * @example
 * const tokens = createServiceTokenMinter({ service: 'orders', key: config.SERVICE_KEY });
 * const token = await tokens.tokenFor('inventory');
 */
export function createServiceTokenMinter({ service, key, lifetimeSeconds = serviceTokenLifetimeSeconds, renewBeforeSeconds = serviceTokenRenewBeforeSeconds, now = () => Date.now() }: ServiceTokenMinterOptions): ServiceTokenSource {
  const cache = new Map<string, Cached>();
  const pending = new Map<string, Promise<string>>();

  function drop(audience: string, cached: Cached): void {
    for (const timer of cached.timers) clearTimeout(timer);
    if (cache.get(audience) === cached) cache.delete(audience);
  }

  // When a token is due for renewal, and when it is no longer sent, are timers, not a clock read
  // on each call: on the path of every call, a clock read costs about what a map lookup does
  // (`verified-token-cache.ts`). A timer runs late by the event loop's lag at most; a second of
  // margin before `exp` covers it and the trip to the callee.
  function mint(audience: string): Promise<string> {
    const issuedAtMs = now();
    const issuedAtSeconds = Math.floor(issuedAtMs / 1000);
    return mintServiceToken({ service, key, audience, issuedAtSeconds, lifetimeSeconds }).then((token) => {
      const expiresAtMs = (issuedAtSeconds + lifetimeSeconds) * 1000;
      const known = cache.get(audience);
      if (known !== undefined) drop(audience, known);
      const timer = (atMs: number, then: () => void) => detachedTimeout(then, Math.max(0, atMs - now()));
      const cached: Cached = {
        token,
        renewDue: false,
        renewing: undefined,
        timers: [
          timer(expiresAtMs - renewBeforeSeconds * 1000, () => { cached.renewDue = true; }),
          timer(expiresAtMs - 1_000, () => drop(audience, cached)),
        ],
      };
      cache.set(audience, cached);
      return token;
    });
  }

  return {
    tokenFor(audience) {
      const cached = cache.get(audience);
      if (cached !== undefined) {
        if (cached.renewDue && cached.renewing === undefined) {
          // The old token is still good: the call goes with it, the next ones with the new one.
          cached.renewing = mint(audience);
          cached.renewing.catch(() => { cached.renewing = undefined; });
        }
        return cached.token;
      }
      let minting = pending.get(audience);
      if (minting === undefined) {
        minting = mint(audience).finally(() => pending.delete(audience));
        pending.set(audience, minting);
      }
      return minting;
    },
    forget(audience) {
      // A token refused is never sent again: the one cached, and one being renewed, were signed
      // by the same clock and key.
      const cached = cache.get(audience);
      if (cached !== undefined) drop(audience, cached);
    },
  };
}
