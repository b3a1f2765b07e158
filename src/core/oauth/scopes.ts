import { AuthError } from '../errors.js';

/** Scopes OpenID Connect defines (OIDC Core §5.4, §11), with what each lets a client see or do. */
export const OPENID_SCOPES: Readonly<Record<string, string>> = {
  openid: 'Confirm who you are (your account identifier)',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Stay connected when you are not using it (a refresh token)',
};

/** An API that tokens may be issued for (RFC 8707), with the scopes it defines. */
export interface ResourceDefinition {
  resource: string;
  scopes: readonly string[];
  description?: string;
  /** Clients (the API's own) that may introspect tokens issued for it (RFC 7662 §4). */
  introspectingClients?: readonly string[];
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The words of a stored space-separated list (scopes, resources); '' is the empty list. */
export function spaceList(value: string | null | undefined): string[] {
  return (value ?? '').split(' ').filter((word) => word !== '');
}

/**
 * Splits a `scope` parameter into its tokens, without duplicates, in the order given.
 * @throws AuthError `invalid_scope` for a token outside the RFC 6749 §3.3 grammar.
 */
export function parseScope(value: string | undefined): string[] {
  if (value === undefined) return [];
  const tokens = spaceList(value);
  for (const token of tokens) {
    if (!SCOPE_TOKEN.test(token)) throw new AuthError('invalid_scope', { description: 'The scope parameter is malformed.' });
  }
  return [...new Set(tokens)];
}

/**
 * Every scope this server knows: the OpenID ones and those of the configured resources, with the
 * plain-words explanation the consent page shows.
 */
export class ScopeCatalog {
  readonly #resources: ReadonlyMap<string, ResourceDefinition>;
  readonly #descriptions: ReadonlyMap<string, string>;
  /** Resource scope -> the resources defining it. */
  readonly #owners: ReadonlyMap<string, string[]>;

  constructor(resources: readonly ResourceDefinition[], descriptions: Readonly<Record<string, string>> = {}) {
    this.#resources = new Map(resources.map((r) => [r.resource, r]));
    const owners = new Map<string, string[]>();
    for (const r of resources) for (const scope of r.scopes) owners.set(scope, [...(owners.get(scope) ?? []), r.resource]);
    this.#owners = owners;
    this.#descriptions = new Map(Object.entries({ ...descriptions, ...OPENID_SCOPES }));
  }

  /** Every known scope name. */
  get known(): ReadonlySet<string> {
    return new Set([...Object.keys(OPENID_SCOPES), ...this.#owners.keys()]);
  }

  isOpenIdScope(scope: string): boolean {
    return Object.hasOwn(OPENID_SCOPES, scope);
  }

  describe(scope: string): string {
    return this.#descriptions.get(scope) ?? `Use the permission "${scope}"`;
  }

  findResource(resource: string): ResourceDefinition | undefined {
    return this.#resources.get(resource);
  }

  /**
   * The audience of an access token for these scopes (RFC 8707 §2): the resources asked for, or
   * when none was named, the resources that define the API scopes requested.
   * @throws AuthError `invalid_scope` when an API scope belongs to none of the named resources.
   */
  audienceFor(scopes: readonly string[], resources: readonly string[]): string[] {
    const apiScopes = scopes.filter((s) => !this.isOpenIdScope(s));
    if (resources.length > 0) {
      for (const scope of apiScopes) {
        if (!resources.some((r) => this.#resources.get(r)?.scopes.includes(scope))) {
          throw new AuthError('invalid_scope', { description: `The scope "${scope}" is not defined by the requested resource.` });
        }
      }
      return [...resources];
    }
    return [...new Set(apiScopes.flatMap((s) => this.#owners.get(s) ?? []))];
  }
}
