import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import type { UpstreamClientAuth } from './provider.js';

type AppleClientAuth = Extract<UpstreamClientAuth, { method: 'apple_client_secret_jwt' }>;

export const APPLE_ISSUER = 'https://appleid.apple.com';
/** Apple: a client secret may live at most 15,777,000 s (6 months); ours lives 5 minutes. */
const APPLE_CLIENT_SECRET_LIFETIME_S = 300;

/**
 * Signs the client secret Sign in with Apple expects at its token endpoint (sent as `client_secret`
 * with `client_secret_post`, the only method Apple's discovery document lists).
 * Apple, "Generate and validate tokens", Creating the client secret: an ES256 JWT whose header has
 * `kid` (the key id) and whose claims are `iss` (the team id), `iat`, `exp` (at most 15,777,000 s,
 * 6 months, after `iat`), `aud` = https://appleid.apple.com and `sub` (the client id, a Services ID).
 * @param now epoch milliseconds.
 */
export async function createAppleClientSecret(auth: AppleClientAuth, clientId: string, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: auth.keyId })
    .setIssuer(auth.teamId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + APPLE_CLIENT_SECRET_LIFETIME_S)
    .setAudience(APPLE_ISSUER)
    .setSubject(clientId)
    .sign(createPrivateKey(auth.privateKeyPem));
}
