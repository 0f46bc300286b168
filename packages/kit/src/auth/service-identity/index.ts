/**
 * Workload identity: every call between Baton services carries a short-lived token the caller
 * signs with its own key (`baton-service-token`), checked by the callee against the keys it
 * trusts for that caller before any work. See docs/security.md, "Service identity".
 */
export * from './service-token.ts';
export { generateServiceKeyPair, parseServiceKey, parseServiceTrust, type ServiceKey, type ServicePrivateJwk, type ServicePublicJwk, type ServiceTrust } from './keys.ts';
export { createServiceTokenMinter, mintServiceToken, type ServiceTokenMinterOptions, type ServiceTokenSource } from './minter.ts';
export { createServiceTokenVerifier, serviceTokenRequired, type ServiceTokenVerifier, type ServiceTokenVerifierOptions } from './verifier.ts';
export { callerAllowed, checkCaller, type ServiceIdentity } from './service-identity.ts';
