import { readFileSync } from 'node:fs';
import type { ClientRegistration } from '../../core/oauth/client-service.js';
import type { OAuthClient } from '../../core/ports.js';
import { CliError, iso, parse, parseWithOperands, print, withGatehouse, type Command } from '../cli-support.js';

const DURATION = /^([0-9]+)(s|m|h|d)?$/;
const DURATION_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** A client as `client list` shows it: RFC 7591 names, never the secret hash. */
function clientRow(client: OAuthClient): Record<string, unknown> {
  return {
    client_id: client.id,
    client_name: client.name,
    type: client.type,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    grant_types: client.grantTypes,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    scope: client.scopes.join(' '),
    first_party: client.firstParty,
    require_mfa: client.requireMfa === true,
    access_token_lifetime: client.accessTokenLifetime,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    source: client.source,
    created_at: iso(client.createdAt),
    updated_at: iso(client.updatedAt),
  };
}

function readJwks(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new CliError(`cannot read --jwks ${file}: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** Said when a client without authorization_code got no default scopes (a client_credentials client). */
const CLIENT_CREDENTIALS_SCOPES_NOTE =
  'note: no scopes given, so none (OpenID scopes describe a user, client_credentials refuses them): it gets tokens without a scope; for API scopes, create it with --scopes "…" naming scopes of GATEHOUSE_RESOURCES';

export const clientCommands: Record<string, Command> = {
  'client create': {
    summary: 'register an OAuth client',
    usage:
      'Usage: gatehouse client create --name NAME [--redirect-uri URI]… [--post-logout-redirect-uri URI]… [--public]\n' +
      '         [--grant-types a,b] [--scopes "s1 s2"] [--auth-method METHOD] [--jwks FILE] [--first-party] [--require-mfa]\n' +
      '         [--access-token-lifetime DURATION] [--id-token-alg ALG] [--json]\n' +
      '  Registers an OAuth client and prints its client_id and, for a confidential client, its secret: shown once,\n' +
      '  stored only as a hash. --json prints { "client_id": …, "client_secret": … } (no secret for a public client).\n' +
      '  --redirect-uri URI              where codes are sent (repeat for more); https, http on 127.0.0.1/[::1]/localhost,\n' +
      '                                  or for --public a private-use scheme such as com.example.app:/callback\n' +
      '  --post-logout-redirect-uri URI  where to return after sign-out (repeat for more)\n' +
      '  --public                        a client that cannot keep a secret (SPA, native app): auth method none, PKCE\n' +
      '  --grant-types a,b               authorization_code, refresh_token, client_credentials (default: the first two)\n' +
      '  --scopes "s1 s2"                scopes it may request (default: openid profile email offline_access; none\n' +
      '                                  for client_credentials alone: OpenID scopes describe a user)\n' +
      '  --auth-method METHOD            client_secret_basic (default), client_secret_post, private_key_jwt; none if --public\n' +
      '  --jwks FILE                     a JWK Set of the client\'s public keys, for private_key_jwt\n' +
      '  --first-party                   skips the consent page\n' +
      '  --require-mfa                   every sign-in for this client needs a second factor\n' +
      '  --access-token-lifetime DURATION  overrides the configured lifetime: seconds, or 30s, 5m, 1h (30s to 1d)\n' +
      '  --id-token-alg ALG              id_token_signed_response_alg (default RS256)',
    async run(argv) {
      const values = parse(
        argv,
        {
          name: { type: 'string' },
          'redirect-uri': { type: 'string', multiple: true },
          'post-logout-redirect-uri': { type: 'string', multiple: true },
          public: { type: 'boolean' },
          'grant-types': { type: 'string' },
          scopes: { type: 'string' },
          'auth-method': { type: 'string' },
          jwks: { type: 'string' },
          'first-party': { type: 'boolean' },
          'require-mfa': { type: 'boolean' },
          'access-token-lifetime': { type: 'string' },
          'id-token-alg': { type: 'string' },
          json: { type: 'boolean' },
        },
        this.usage,
      );
      if (values.name === undefined) throw new CliError(`--name is required\n${this.usage}`, 2);
      let accessTokenLifetime: number | undefined;
      if (values['access-token-lifetime'] !== undefined) {
        const match = DURATION.exec(values['access-token-lifetime'].trim());
        if (!match) throw new CliError(`--access-token-lifetime must be a number of seconds or a duration such as 30s, 5m, 1h (got ${JSON.stringify(values['access-token-lifetime'])})`, 2);
        accessTokenLifetime = Number(match[1]) * (DURATION_SECONDS[match[2] ?? 's'] ?? 1);
      }
      const registration: ClientRegistration = {
        name: values.name,
        public: values.public ?? false,
        redirectUris: values['redirect-uri'] ?? [],
        postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
        grantTypes: values['grant-types']?.split(',').map((g) => g.trim()).filter((g) => g !== ''),
        scopes: values.scopes?.split(/\s+/).filter((s) => s !== ''),
        tokenEndpointAuthMethod: values['auth-method'],
        jwks: values.jwks === undefined ? undefined : readJwks(values.jwks),
        firstParty: values['first-party'] ?? false,
        requireMfa: values['require-mfa'] ?? false,
        accessTokenLifetime,
        idTokenSignedResponseAlg: values['id-token-alg'],
      };
      const { client, clientSecret } = await withGatehouse((g) => g.services.clients.create(registration));
      const lines = [
        `created ${client.type} client "${client.name}"`,
        `  client_id:     ${client.id}`,
        `  auth method:   ${client.tokenEndpointAuthMethod}`,
        `  grant types:   ${client.grantTypes.join(', ')}`,
        `  scopes:        ${client.scopes.length === 0 ? '(none)' : client.scopes.join(' ')}`,
        ...client.redirectUris.map((uri) => `  redirect URI:  ${uri}`),
        ...(clientSecret === undefined ? [] : [`  client_secret: ${clientSecret}`, 'The client secret is shown once and cannot be recovered: store it now.']),
        ...(client.scopes.length === 0 && values.scopes === undefined ? [CLIENT_CREDENTIALS_SCOPES_NOTE] : []),
      ];
      print(values.json, clientSecret === undefined ? { client_id: client.id } : { client_id: client.id, client_secret: clientSecret }, lines.join('\n'));
    },
  },

  'client list': {
    summary: 'list OAuth clients',
    usage: 'Usage: gatehouse client list [--json]\n  Lists OAuth clients, oldest first (secrets are never shown: only their hashes are stored).',
    async run(argv) {
      const values = parse(argv, { json: { type: 'boolean' } }, this.usage);
      const clients = await withGatehouse((g) => g.services.clients.list());
      print(
        values.json,
        clients.map(clientRow),
        clients.length === 0
          ? 'no clients'
          : clients.map((c) => `${c.id}  ${c.type.padEnd(12)}  ${c.source.padEnd(6)}  ${c.name}  ${c.redirectUris.join(' ')}`.trimEnd()).join('\n'),
      );
    },
  },

  'client delete': {
    summary: 'delete an OAuth client and revoke its tokens',
    usage:
      'Usage: gatehouse client delete CLIENT_ID [--json]\n' +
      '  Deletes an OAuth client and revokes its access tokens. Clients declared in the configuration file are removed there.',
    async run(argv) {
      const { values, positionals } = parseWithOperands(argv, { json: { type: 'boolean' } }, this.usage);
      if (positionals.length !== 1) throw new CliError(`expected one CLIENT_ID\n${this.usage}`, 2);
      const clientId = positionals[0]!;
      const deleted = await withGatehouse((g) => g.services.clients.delete(clientId));
      if (!deleted) throw new CliError(`no client ${clientId}`);
      print(values.json, { client_id: clientId, deleted: true }, `deleted client ${clientId}`);
    },
  },
};
