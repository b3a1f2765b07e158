import type { GatehouseConfig } from './schema.js';

/** Where passkeys are bound (WebAuthn Level 3 §5.1.4.1 "RP ID") and which origins may use them. */
export interface WebAuthnRelyingParty {
  rpId: string;
  origins: string[];
}

/**
 * The relying party id and origins from the issuer and the two overrides, or the problems with them:
 * the RP id must be the issuer's host or a registrable parent of it (WebAuthn §5.1.4.1: "a registrable
 * domain suffix of or equal to the caller's origin's effective domain"), each origin https (or http on
 * localhost) on that domain, without a path.
 */
export interface RelyingPartyProblem {
  setting: 'webauthnRpId' | 'webauthnOrigins';
  message: string;
}

export function webAuthnRelyingParty(config: Pick<GatehouseConfig, 'issuer' | 'webauthnRpId' | 'webauthnOrigins'>): WebAuthnRelyingParty | { problems: RelyingPartyProblem[] } {
  const issuer = new URL(config.issuer);
  const rpId = (config.webauthnRpId ?? issuer.hostname).toLowerCase();
  const problems: RelyingPartyProblem[] = [];
  const rp = (message: string): number => problems.push({ setting: 'webauthnRpId', message });
  const origin = (message: string): number => problems.push({ setting: 'webauthnOrigins', message });
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(rpId)) {
    rp(`must be a domain name such as example.com (got ${JSON.stringify(config.webauthnRpId)})`);
    return { problems };
  }
  if (/^[0-9.]+$/.test(rpId)) rp(`${rpId} is an IP address; WebAuthn needs a domain name`);
  else if (!onDomain(issuer.hostname, rpId)) rp(`${rpId} must be the issuer's host ${issuer.hostname} or a parent domain of it`);
  // A bare public suffix (com, co.uk) cannot be an RP id; a domain needs at least two labels, localhost aside.
  if (rpId !== 'localhost' && !rpId.includes('.')) rp(`${rpId} is not a registrable domain`);
  const origins = config.webauthnOrigins === undefined ? [issuer.origin] : config.webauthnOrigins.split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const value of origins) {
    const url = URL.canParse(value) ? new URL(value) : undefined;
    const local = url?.hostname === 'localhost' || url?.hostname.endsWith('.localhost') === true;
    if (!url || url.origin !== value || !(url.protocol === 'https:' || (url.protocol === 'http:' && local))) {
      origin(`${JSON.stringify(value)} must be an origin such as https://app.example.com (https, no path; http only on localhost)`);
    } else if (!onDomain(url.hostname, rpId)) {
      origin(`${value} is not on the relying party's domain ${rpId}`);
    }
  }
  if (origins.length === 0) origin('names no origin');
  return problems.length > 0 ? { problems } : { rpId, origins };
}

function onDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}
