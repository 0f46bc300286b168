/**
 * Access tokens, verified: the users service signs short-lived EdDSA JWTs and publishes its
 * public keys as a JWKS and its revocations as a feed; every other service verifies them
 * in-process with a verifier from here.
 */
export { accessTokenAlgorithm, accessTokenType, roles, rolesOf, type Role, type VerifiedToken } from './access-token.ts';
export { requireRole } from './require-role.ts';
export { bearerTokenOf } from './bearer-token.ts';
export { verifyAccessToken, defaultTokenMaxAgeSeconds, type AccessTokenExpectations, type KeyResolver } from './verify-access-token.ts';
export { createServiceTokenVerifier, createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from './token-verifier.ts';
export { accessTokenConfigFields, type AccessTokenConfig } from './token-config.ts';
export { startRevocationPoller, type RevocationPoller, type RevocationPollerOptions } from './revocation-poller.ts';
export { RevocationList, tokenRevocationsPage, tokenRevocationsPath, tokenRevocationsQuery, type TokenRevocationsPage } from './token-revocations.ts';
export {
  createServiceTokenMinter, generateServiceKeyPair, mintServiceToken, parseServiceKey, parseServiceTrust,
  serviceTokenHeader, serviceTokenType, serviceTokenLifetimeSeconds, serviceTokenMaxLifetimeSeconds,
  type ServiceKey, type ServicePrivateJwk, type ServicePublicJwk, type ServiceTokenSource, type ServiceTrust,
} from './service-identity/index.ts';
