import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';

/** A service's own signing key, as `SERVICE_KEY` gives it: a private Ed25519 JWK with a `kid`. */
export interface ServiceKey {
  kid: string;
  privateKey: KeyObject;
}

/**
 * Whom a service trusts: for each caller service, its public keys by `kid`. A caller has
 * several during a rotation (the old and the new key); a caller not named here is refused.
 */
export type ServiceTrust = ReadonlyMap<string, ReadonlyMap<string, KeyObject>>;

/** A public Ed25519 JWK with its `kid`, as `SERVICE_TRUST` lists them. */
export interface ServicePublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
}

/** A private one, as `SERVICE_KEY` holds it. */
export interface ServicePrivateJwk extends ServicePublicJwk {
  d: string;
}

/** A new key pair for a service, with a `kid` naming the service and when it was made. */
export function generateServiceKeyPair(service: string): { privateJwk: ServicePrivateJwk; publicJwk: ServicePublicJwk } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as JsonWebKey & { x: string; d: string };
  const kid = `${service}-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  return {
    privateJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d, kid },
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid },
  };
}

function isEd25519Jwk(value: unknown): value is ServicePublicJwk & { d?: unknown } {
  if (typeof value !== 'object' || value === null) return false;
  const jwk = value as Record<string, unknown>;
  return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string' && typeof jwk.kid === 'string' && jwk.kid !== '';
}

/**
 * `SERVICE_KEY`'s JSON, checked and imported; a message (never the value) when it is not a
 * private Ed25519 JWK with a `kid`.
 */
export function parseServiceKey(raw: string): ServiceKey | { problem: string } {
  const problem = { problem: 'expected a private Ed25519 JWK with a kid, as JSON' };
  let jwk: unknown;
  try {
    jwk = JSON.parse(raw);
  } catch {
    return problem;
  }
  if (!isEd25519Jwk(jwk) || typeof jwk.d !== 'string') return problem;
  try {
    return { kid: jwk.kid, privateKey: createPrivateKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d }, format: 'jwk' }) };
  } catch {
    return problem;
  }
}

/**
 * `SERVICE_TRUST`'s JSON: `{"orders": [<public JWK>, ...], ...}`, each key with its `kid`. A
 * private key here is refused: what a callee is given must be public.
 */
export function parseServiceTrust(raw: string): ServiceTrust | { problem: string } {
  const problem = { problem: 'expected JSON naming, per caller service, a list of public Ed25519 JWKs with a kid' };
  let document: unknown;
  try {
    document = JSON.parse(raw);
  } catch {
    return problem;
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return problem;
  const trust = new Map<string, Map<string, KeyObject>>();
  for (const [caller, jwks] of Object.entries(document)) {
    if (!Array.isArray(jwks) || jwks.length === 0) return problem;
    const keys = new Map<string, KeyObject>();
    for (const jwk of jwks) {
      if (!isEd25519Jwk(jwk) || jwk.d !== undefined) return problem;
      try {
        keys.set(jwk.kid, createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' }));
      } catch {
        return problem;
      }
    }
    trust.set(caller, keys);
  }
  return trust;
}
