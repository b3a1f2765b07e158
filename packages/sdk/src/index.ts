/**
 * `@gatehouse-auth/sdk`: verify Gatehouse access tokens in any Node application. Depends on `jose`
 * only; the framework middleware live in `@gatehouse-auth/sdk/express`, `/fastify` and `/hono`.
 */
export { createVerifier } from './verifier.js';
export type { RevocationMode, VerifiedToken, Verifier, VerifierAlgorithm, VerifierOptions } from './verifier.js';
export { VerificationError } from './verification-error.js';
export type { VerificationErrorCode } from './verification-error.js';
export { assertAcr, assertMaxAge, assertScopes, assertUserAuthentication, bearerErrorResponse, extractBearerToken } from './bearer-auth.js';
export type { BearerErrorResponse, BearerRequest, UserAuthenticationRequirement } from './bearer-auth.js';
export type { JWTPayload } from 'jose';
