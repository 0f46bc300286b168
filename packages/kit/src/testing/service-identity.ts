import { createPrivateKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { generateServiceKeyPair, type ServicePrivateJwk, type ServicePublicJwk } from '../auth/service-identity/keys.ts';
import { createServiceTokenMinter, mintServiceToken, type ServiceTokenSource } from '../auth/service-identity/minter.ts';
import { serviceTokenHeader, serviceTokenLifetimeSeconds } from '../auth/service-identity/service-token.ts';

/** The Baton services, as tests sign for them and trust them. */
export const batonServiceNames = ['gateway', 'users', 'inventory', 'orders', 'notifications'] as const;

export interface TestKeyPair {
  privateJwk: ServicePrivateJwk;
  publicJwk: ServicePublicJwk;
}

export interface MintOptions {
  /** `iat`, in wall-clock seconds: in the past for an expired token. Now by default. */
  issuedAtSeconds?: number;
  lifetimeSeconds?: number;
  /** Sign with this key instead of the caller's own (one not trusted, a rotated one). */
  key?: TestKeyPair;
}

export interface TestIdentity {
  /** The key pair a service signs with in this test process, made on first use. */
  keyPair(service: string): TestKeyPair;
  /**
   * `SERVICE_KEY` and `SERVICE_TRUST` for a service a test starts: its own key, and the public
   * keys of `callers` (every Baton service by default: the routes say who may call what).
   */
  env(service: string, callers?: readonly string[]): { SERVICE_KEY: string; SERVICE_TRUST: string };
  /** A service token from `caller` to `callee`, as the kit's clients send it. */
  mint(caller: string, callee: string, options?: MintOptions): Promise<string>;
  /** `{ 'baton-service-token': <token> }`, for a request a test sends as `caller`. */
  headers(caller: string, callee: string): Promise<Record<string, string>>;
  /** `caller`'s tokens for a kit client a test makes by hand (`createHttpClient({ ..., identity })`). */
  tokens(caller: string): ServiceTokenSource;
}

/** Key pairs and tokens for tests: each service's key made once per test process, in memory. */
export function createTestIdentity(): TestIdentity {
  const pairs = new Map<string, TestKeyPair>();
  const tokens = new Map<string, { token: string; expiresAtMs: number }>();
  const keyPair = (service: string): TestKeyPair => {
    let pair = pairs.get(service);
    if (pair === undefined) {
      pair = generateServiceKeyPair(service);
      pairs.set(service, pair);
    }
    return pair;
  };

  async function mint(caller: string, callee: string, { issuedAtSeconds, lifetimeSeconds = serviceTokenLifetimeSeconds, key }: MintOptions = {}): Promise<string> {
    const pair = key ?? keyPair(caller);
    const { kty, crv, x, d } = pair.privateJwk;
    return mintServiceToken({
      service: caller,
      key: { kid: pair.privateJwk.kid, privateKey: createPrivateKey({ key: { kty, crv, x, d }, format: 'jwk' }) },
      audience: callee,
      issuedAtSeconds: issuedAtSeconds ?? Math.floor(Date.now() / 1000),
      lifetimeSeconds,
    });
  }

  return {
    keyPair,
    env(service, callers = batonServiceNames) {
      const trust = Object.fromEntries(callers.map((caller) => [caller, [keyPair(caller).publicJwk]]));
      return { SERVICE_KEY: JSON.stringify(keyPair(service).privateJwk), SERVICE_TRUST: JSON.stringify(trust) };
    },
    mint,
    tokens(caller) {
      const { kty, crv, x, d, kid } = keyPair(caller).privateJwk;
      return createServiceTokenMinter({ service: caller, key: { kid, privateKey: createPrivateKey({ key: { kty, crv, x, d }, format: 'jwk' }) } });
    },
    async headers(caller, callee) {
      const cacheKey = `${caller}>${callee}`;
      const cached = tokens.get(cacheKey);
      if (cached !== undefined && Date.now() < cached.expiresAtMs) return { [serviceTokenHeader]: cached.token };
      const token = await mint(caller, callee);
      tokens.set(cacheKey, { token, expiresAtMs: Date.now() + (serviceTokenLifetimeSeconds - 60) * 1000 });
      return { [serviceTokenHeader]: token };
    },
  };
}

/** The test process's identity: the keys every test-started service is given by default. */
export const testIdentity = createTestIdentity();

/**
 * A grpc-js client interceptor that sends `caller`'s token to `callee` with every call, as a
 * Baton service's kit client does: `new Stub(address, insecure, { interceptors: [serviceTokenInterceptor('orders', 'inventory')] })`.
 */
export function serviceTokenInterceptor(caller: string, callee: string, identity: TestIdentity = testIdentity): grpc.Interceptor {
  return (options, nextCall) => new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      identity.headers(caller, callee).then((headers) => {
        metadata.set(serviceTokenHeader, headers[serviceTokenHeader] ?? '');
        next(metadata, listener);
      }, (error: unknown) => listener.onReceiveStatus?.({ code: grpc.status.INTERNAL, details: String(error), metadata: new grpc.Metadata() }));
    },
  });
}
