import type { User } from '../ports.js';

/**
 * Standard claims released by scope (OIDC Core §5.4): `profile` gives name and updated_at, `email`
 * gives email and email_verified (true once the address was proven: an emailed link, or a provider that said so).
 */
export function claimsForScopes(user: User, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes('profile')) {
    if (user.name) claims.name = user.name;
    claims.updated_at = Math.floor(user.updatedAt / 1000);
  }
  if (scopes.includes('email')) {
    claims.email = user.email;
    claims.email_verified = user.emailVerified;
  }
  return claims;
}
