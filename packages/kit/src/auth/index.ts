/**
 * Access tokens, verified: the users service signs short-lived EdDSA JWTs and publishes its
 * public keys as a JWKS; every other service verifies them in-process with a verifier from here.
 */
export { accessTokenAlgorithm, accessTokenType, type VerifiedToken } from './access-token.ts';
export { bearerTokenOf } from './bearer-token.ts';
export { checkAdminToken } from './admin-token.ts';
export { verifyAccessToken, type AccessTokenExpectations, type KeyResolver } from './verify-access-token.ts';
export { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from './token-verifier.ts';
export {
  createServiceTokenMinter, createServiceTokenVerifier, generateServiceKeyPair, mintServiceToken, parseServiceKey, parseServiceTrust,
  serviceTokenHeader, serviceTokenType, serviceTokenLifetimeSeconds, serviceTokenMaxLifetimeSeconds,
  type ServiceKey, type ServicePrivateJwk, type ServicePublicJwk, type ServiceTokenSource, type ServiceTokenVerifier, type ServiceTrust,
} from './service-identity/index.ts';
