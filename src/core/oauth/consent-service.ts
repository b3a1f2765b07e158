import type { Clock } from '../clock.js';
import type { ConsentRecord, ConsentRepository } from '../ports.js';
import { spaceList } from './scopes.js';

/**
 * Remembered consents: what each user allowed each client, so the consent page shows only for
 * scopes not granted before. Withdrawing a consent ends the client's refresh tokens for the user.
 */
export class ConsentService {
  readonly #store: ConsentRepository;
  readonly #clock: Clock;
  readonly #onWithdrawn: (userId: string, clientId: string) => Promise<void>;

  /** `onWithdrawn` revokes the grants (refresh families and their access tokens) of the user with the client. */
  constructor(store: ConsentRepository, clock: Clock, onWithdrawn: (userId: string, clientId: string) => Promise<void>) {
    this.#store = store;
    this.#clock = clock;
    this.#onWithdrawn = onWithdrawn;
  }

  /** The scopes of `requested` the user has not yet granted to the client. */
  async missingScopes(userId: string, clientId: string, requested: readonly string[]): Promise<string[]> {
    const consent = await this.#store.find(userId, clientId);
    const granted = new Set(spaceList(consent?.scope));
    return requested.filter((scope) => !granted.has(scope));
  }

  /** Records that the user granted these scopes (added to what was granted before). */
  async grant(userId: string, clientId: string, scopes: readonly string[]): Promise<void> {
    const now = this.#clock.now();
    const existing = await this.#store.find(userId, clientId);
    const scope = [...new Set([...spaceList(existing?.scope), ...scopes])].join(' ');
    await this.#store.save({ userId, clientId, scope, grantedAt: existing?.grantedAt ?? now, updatedAt: now });
  }

  list(userId: string): Promise<ConsentRecord[]> {
    return this.#store.listByUser(userId);
  }

  /** Withdraws a consent and the grants made under it; false when there was none. */
  async withdraw(userId: string, clientId: string): Promise<boolean> {
    const deleted = await this.#store.delete(userId, clientId);
    if (deleted) await this.#onWithdrawn(userId, clientId);
    return deleted;
  }
}
