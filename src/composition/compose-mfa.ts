import type { GatehouseConfig } from '../config/schema.js';
import { webAuthnRelyingParty, type WebAuthnRelyingParty } from '../config/webauthn-relying-party.js';
import type { Clock } from '../core/clock.js';
import type { MasterKeyRing } from '../core/keys/sealed-box.js';
import { AuthenticatorApps } from '../core/mfa/authenticator-apps.js';
import { MultiFactor } from '../core/mfa/multi-factor.js';
import { Passkeys } from '../core/mfa/passkeys.js';
import { RecoveryCodes } from '../core/mfa/recovery-code-service.js';
import type { Storage } from '../core/ports.js';
import { SignedTickets } from '../core/signed-tickets.js';
import type { LoginThrottle } from '../core/throttle/login-throttle.js';
import type { SecurityNotices } from '../core/accounts/security-notices.js';

export interface MfaServices {
  multiFactor: MultiFactor;
  /** Undefined when passkeys are off (GATEHOUSE_PASSKEYS=false, or an issuer browsers refuse them on). */
  passkeys: Passkeys | undefined;
  tickets: SignedTickets;
  /** Where passkeys are bound; undefined when passkeys are off or the issuer cannot have them (an IP address). */
  relyingParty: WebAuthnRelyingParty | undefined;
}

/**
 * The second-factor part of the composition root: signed tickets for the ceremonies, authenticator
 * apps (secrets sealed under the master key), recovery codes (hashed under a key derived from it),
 * and the policy.
 */
export function composeMfa(
  config: GatehouseConfig,
  deps: { storage: Pick<Storage, 'totpFactors' | 'recoveryCodes' | 'passkeys' | 'users' | 'replays' | 'audit'>; clock: Clock; throttle: LoginThrottle; ring: MasterKeyRing; notices: SecurityNotices },
): MfaServices {
  const { storage, clock, throttle, ring, notices } = deps;
  let ticketKeys: Buffer[] | undefined;
  let recoveryKeys: Buffer[] | undefined;
  const tickets = new SignedTickets({ clock, replays: storage.replays }, { keys: () => (ticketKeys ??= ring.deriveKeys('signed tickets v1')) });
  const party = config.passkeys ? webAuthnRelyingParty(config) : undefined;
  const relyingParty = party && !('problems' in party) ? party : undefined;
  const apps = new AuthenticatorApps({ factors: storage.totpFactors, ring, throttle, clock }, { issuer: config.brandName });
  const recovery = new RecoveryCodes({ codes: storage.recoveryCodes, throttle, audit: storage.audit, clock, keys: () => (recoveryKeys ??= ring.deriveKeys('recovery codes v1')) });
  const multiFactor = new MultiFactor(
    { apps, recovery, passkeys: storage.passkeys, users: storage.users, tickets, audit: storage.audit, clock, notices },
    { policy: config.mfa, passkeys: relyingParty !== undefined },
  );
  const passkeys = relyingParty
    ? new Passkeys({ passkeys: storage.passkeys, users: storage.users, audit: storage.audit, tickets, clock }, { rpId: relyingParty.rpId, rpName: config.brandName, origins: relyingParty.origins })
    : undefined;
  return { multiFactor, passkeys, tickets, relyingParty };
}
