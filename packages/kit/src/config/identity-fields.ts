import { z } from 'zod';
import { parseServiceKey, parseServiceTrust, type ServiceKey, type ServiceTrust } from '../auth/service-identity/keys.ts';

const serviceKey = z.string().transform((raw, ctx): ServiceKey => {
  const parsed = parseServiceKey(raw);
  if ('problem' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed;
});

const serviceTrust = z.string().transform((raw, ctx): ServiceTrust => {
  const parsed = parseServiceTrust(raw);
  if ('problem' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed;
});

/**
 * The variables of a service's workload identity, spread into its schema beside
 * `serviceConfigFields`; every Baton service has them, and with them the kit signs every call
 * the service makes and checks every call it gets (see docs/security.md, "Service identity").
 * Each may also come from a file, `SERVICE_KEY_FILE`, as Kubernetes mounts a Secret (see `loadConfig`).
 * A service that nobody calls (the gateway) may leave out `SERVICE_TRUST`: it then trusts no one.
 */
export function serviceIdentityFields({ trustRequired = true }: { trustRequired?: boolean } = {}) {
  return {
    /** This service's private Ed25519 key, a JWK with its `kid`, as JSON. Required; never logged. */
    SERVICE_KEY: serviceKey,
    /** Per caller service, its public keys (JWKs with `kid`; two during a rotation): `{"orders":[{...}]}`. */
    SERVICE_TRUST: trustRequired ? serviceTrust : serviceTrust.default(() => new Map()),
  };
}

/** What the kit needs of a config with an identity. */
export interface IdentityConfig {
  SERVICE_KEY: ServiceKey;
  SERVICE_TRUST: ServiceTrust;
}

/** Whether a service's config carries an identity (every Baton service's does). */
export function hasIdentity(config: object): config is IdentityConfig {
  return 'SERVICE_KEY' in config && 'SERVICE_TRUST' in config;
}
