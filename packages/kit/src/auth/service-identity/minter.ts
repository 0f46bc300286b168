import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
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
  expiresAtMs: number;
  renewing: Promise<string> | undefined;
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
    .setJti(randomUUID())
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
export function createServiceTokenMinter({ service, key, lifetimeSeconds = serviceTokenLifetimeSeconds, renewBeforeSeconds = serviceTokenRenewBeforeSeconds, now = Date.now }: ServiceTokenMinterOptions): ServiceTokenSource {
  const cache = new Map<string, Cached>();
  const pending = new Map<string, Promise<string>>();

  function mint(audience: string): Promise<string> {
    const issuedAtSeconds = Math.floor(now() / 1000);
    return mintServiceToken({ service, key, audience, issuedAtSeconds, lifetimeSeconds }).then((token) => {
      cache.set(audience, { token, expiresAtMs: (issuedAtSeconds + lifetimeSeconds) * 1000, renewing: undefined });
      return token;
    });
  }

  return {
    tokenFor(audience) {
      const cached = cache.get(audience);
      const at = now();
      if (cached !== undefined && at < cached.expiresAtMs - 1_000) {
        if (cached.renewing === undefined && at >= cached.expiresAtMs - renewBeforeSeconds * 1000) {
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
      cache.delete(audience);
    },
  };
}
