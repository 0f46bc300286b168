import type { IdentityConfig } from '../../config/identity-fields.ts';
import { createServiceTokenMinter } from './minter.ts';
import type { ServiceIdentity } from './service-identity.ts';
import { createServiceTokenVerifier } from './verifier.ts';

/** A service's identity from its config: its tokens for the services it calls, and the check of its callers'. */
export function createServiceIdentity(service: string, config: IdentityConfig): ServiceIdentity {
  return {
    service,
    tokens: createServiceTokenMinter({ service, key: config.SERVICE_KEY }),
    verifier: createServiceTokenVerifier({ service, trust: config.SERVICE_TRUST }),
  };
}
