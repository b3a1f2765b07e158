import { existsSync, readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig } from '../config/load-config.js';
import type { GatehouseConfig } from '../config/schema.js';
import { isAuthError } from '../core/errors.js';
import { MasterKeyError } from '../core/keys/sealed-box.js';
import type { ClientRegistration } from '../core/oauth/client-service.js';
import type { OAuthClient } from '../core/ports.js';
import { createGatehouse, createLogger, ensureDataDir, ProviderConfigError, type Gatehouse } from '../main.js';
import { LogDestination } from './log-destination.js';
import { promptHidden, readStdin } from './prompt.js';
import { stopOnSignals } from './shutdown.js';

/** A failure the user can fix: printed as one line, exit code 2 (usage) or 1. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface Command {
  usage: string;
  run(argv: string[]): Promise<void>;
}

function parse<T extends ParseArgsConfig['options']>(argv: string[], options: T, usage: string): ReturnType<typeof parseArgs<{ options: T; args: string[]; allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]}\n${usage}`, 2);
  }
}

/** Like {@link parse}, for a command that takes operands after its options. */
function parseWithOperands<T extends ParseArgsConfig['options']>(
  argv: string[],
  options: T,
  usage: string,
): Pick<ReturnType<typeof parseArgs<{ options: T; args: string[]; allowPositionals: true }>>, 'values' | 'positionals'> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]}\n${usage}`, 2);
  }
}

function config(): GatehouseConfig {
  return loadedConfig().config;
}

function loadedConfig(): ReturnType<typeof loadConfig> {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.problems.map((p) => `configuration: ${p}`).join('\ngatehouse: '), 2);
    throw error;
  }
}

async function withGatehouse<T>(run: (gatehouse: Gatehouse) => Promise<T>, options: { keys?: boolean } = {}): Promise<T> {
  const gatehouse = await open(config(), { withoutHttp: true, ...options });
  try {
    return await run(gatehouse);
  } finally {
    await gatehouse.close();
  }
}

async function open(
  cfg: GatehouseConfig,
  options: { withoutHttp: boolean; logger?: ReturnType<typeof createLogger>; keys?: boolean; applyDeclaredClients?: boolean },
): Promise<Gatehouse> {
  try {
    const gatehouse = await createGatehouse({ config: cfg, ...options, onNotice: (message) => (options.logger ? options.logger.info(message) : console.error(`gatehouse: ${message}`)) });
    if (options.keys) {
      await gatehouse.loadKeys().catch(async (error: unknown) => {
        await gatehouse.close();
        throw error;
      });
    }
    return gatehouse;
  } catch (error) {
    // The configuration file's client list is checked when it is applied, at open.
    if (isAuthError(error) && (error.code === 'invalid_client_metadata' || error.code === 'invalid_redirect_uri')) {
      throw new CliError(`configuration: ${error.description}`, 2);
    }
    if (error instanceof ProviderConfigError) {
      throw new CliError(error.message.split('\n').map((line) => `configuration: ${line}`).join('\ngatehouse: '), 2);
    }
    if (error instanceof MasterKeyError) {
      throw new CliError(`cannot open the signing keys: ${error.message}; set GATEHOUSE_SECRET to the master key they were sealed with (the first key seals, all open)`);
    }
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new CliError(`cannot open the database (${describeDatabase(cfg.databaseUrl)}): ${reason}`);
  }
}

function describeDatabase(url: string): string {
  if (!url.includes('://')) return url;
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

function print(json: boolean | undefined, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value) : text);
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

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

export const commands: Record<string, Command> = {
  start: {
    usage: 'Usage: gatehouse start\n  Starts the server (settings from GATEHOUSE_* environment variables; see README).',
    async run(argv) {
      parse(argv, {}, this.usage);
      const { config: cfg, warnings } = loadedConfig();
      const logs = new LogDestination();
      const logger = createLogger(cfg, logs);
      let gatehouse: Gatehouse;
      try {
        for (const warning of warnings) logger.warn(warning);
        const embedded = !cfg.databaseUrl.includes('://');
        if (embedded) {
          const fresh = !existsSync(cfg.dataDir);
          ensureDataDir(cfg.dataDir);
          if (fresh) logger.info(`created data folder ${cfg.dataDir} (mode 0700)`);
        }
        gatehouse = await open(cfg, { withoutHttp: false, logger });
        const opened = gatehouse;
        // From here on a signal stops cleanly, even one that arrives while the listener starts.
        stopOnSignals({ close: () => opened.close(), logger, logs, timeoutMs: cfg.shutdownTimeout * 1000 });
        logger.info(`database: ${embedded ? `SQLite ${cfg.databaseUrl}` : describeDatabase(cfg.databaseUrl)}`);
        try {
          await gatehouse.app!.listen({ port: cfg.port, host: cfg.host });
        } catch (error) {
          await gatehouse.close();
          const code = (error as { code?: string }).code;
          throw new CliError(code === 'EADDRINUSE' ? `port ${cfg.port} is in use; set PORT to another port` : `cannot listen: ${(error as Error).message}`);
        }
      } catch (error) {
        // The lines logged so far reach the output before the process exits with the error.
        await logs.close(1000);
        throw error;
      }
      gatehouse.startBackgroundJobs();
      logger.info(`Gatehouse is running at ${cfg.issuer}`);
      logger.info(`  sign in:   ${cfg.issuer}/login`);
      logger.info(`  sign up:   ${cfg.issuer}/signup${cfg.signupEnabled ? '' : ' (closed)'}`);
      logger.info(`  health:    ${cfg.issuer}/healthz, ${cfg.issuer}/readyz`);
      logger.info(`  OpenID:    ${cfg.issuer}/.well-known/openid-configuration`);
      logger.info('press Ctrl-C to stop');
    },
  },

  migrate: {
    usage:
      'Usage: gatehouse migrate [--json]\n  Brings the database schema up to date and applies the declared clients of the configuration (both also done at every start).',
    async run(argv) {
      const values = parse(argv, { json: { type: 'boolean' } }, this.usage);
      const cfg = config();
      const gatehouse = await open(cfg, { withoutHttp: true, applyDeclaredClients: true });
      // createGatehouse migrates; a second run reports that nothing is left to apply.
      const { applied } = await gatehouse.storage.migrate();
      await gatehouse.close();
      print(values.json, { database: describeDatabase(cfg.databaseUrl), applied }, `database ${describeDatabase(cfg.databaseUrl)} is up to date`);
    },
  },

  'user create': {
    usage:
      'Usage: gatehouse user create --email EMAIL [--name NAME] [--password PASSWORD | --password-stdin] [--json]\n' +
      '  Creates an account (works when sign-up is closed). Without a password option it asks for one.\n' +
      '  --name is the OpenID Connect `name` claim (scope profile).\n' +
      '  --password puts the password in the process list and shell history: prefer the prompt or --password-stdin.',
    async run(argv) {
      const values = parse(
        argv,
        { email: { type: 'string' }, name: { type: 'string' }, password: { type: 'string' }, 'password-stdin': { type: 'boolean' }, json: { type: 'boolean' } },
        this.usage,
      );
      if (!values.email) throw new CliError(`--email is required\n${this.usage}`, 2);
      const name = values.name;
      let password = values.password;
      if (password === undefined) {
        if (values['password-stdin'] || !process.stdin.isTTY) password = await readStdin();
        else password = await promptHidden('Password: ');
      }
      const email = values.email;
      const user = await withGatehouse((g) => g.services.accounts.register({ email, password: password ?? '', ...(name === undefined ? {} : { name }) }, { by: 'admin' }));
      print(values.json, { id: user.id, email: user.email, name: user.name, created_at: iso(user.createdAt) }, `created ${user.email} (${user.id})`);
    },
  },

  'user list': {
    usage: 'Usage: gatehouse user list [--limit N] [--offset N] [--json]\n  Lists accounts, oldest first.',
    async run(argv) {
      const values = parse(argv, { limit: { type: 'string' }, offset: { type: 'string' }, json: { type: 'boolean' } }, this.usage);
      const limit = Number(values.limit ?? 100);
      const offset = Number(values.offset ?? 0);
      if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
        throw new CliError(`--limit must be a positive whole number and --offset zero or more\n${this.usage}`, 2);
      }
      const users = await withGatehouse((g) => g.services.accounts.list({ limit, offset }));
      const rows = users.map((u) => ({ id: u.id, email: u.email, created_at: iso(u.createdAt), disabled_at: iso(u.disabledAt) }));
      print(
        values.json,
        rows,
        rows.length === 0 ? 'no accounts' : rows.map((r) => `${r.id}  ${r.email}  ${r.created_at}${r.disabled_at ? '  disabled' : ''}`).join('\n'),
      );
    },
  },

  'user disable': {
    usage: 'Usage: gatehouse user disable --email EMAIL [--json]\n  Disables an account and signs out all its sessions.',
    async run(argv) {
      const values = parse(argv, { email: { type: 'string' }, json: { type: 'boolean' } }, this.usage);
      if (!values.email) throw new CliError(`--email is required\n${this.usage}`, 2);
      const email = values.email;
      const user = await withGatehouse(async (g) => {
        const found = await g.services.accounts.getByEmail(email);
        await g.services.accounts.disable(found.id);
        return found;
      });
      print(values.json, { id: user.id, email: user.email, disabled: true }, `disabled ${user.email}`);
    },
  },

  'client create': {
    usage:
      'Usage: gatehouse client create --name NAME [--redirect-uri URI]… [--post-logout-redirect-uri URI]… [--public]\n' +
      '         [--grant-types a,b] [--scopes "s1 s2"] [--auth-method METHOD] [--jwks FILE] [--first-party]\n' +
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

  'keys list': {
    usage: 'Usage: gatehouse keys list [--json]\n  Lists signing keys: pending (published, not signing yet), signing, retired (published until its tokens expire).',
    async run(argv) {
      const values = parse(argv, { json: { type: 'boolean' } }, this.usage);
      const keys = await withGatehouse(async (g) => g.services.keys.list(), { keys: true });
      const rows = keys.map((k) => ({
        kid: k.kid,
        alg: k.alg,
        state: k.state,
        created_at: iso(k.createdAt),
        activates_at: iso(k.activatesAt),
        retires_at: iso(k.retiresAt),
        remove_after: iso(k.removeAfter),
      }));
      print(values.json, rows, rows.map((r) => `${r.kid}  ${r.alg}  ${r.state.padEnd(7)}  signs from ${r.activates_at}${r.retires_at ? ` until ${r.retires_at}, published until ${r.remove_after}` : ''}`).join('\n'));
    },
  },

  'keys rotate': {
    usage:
      'Usage: gatehouse keys rotate [--now] [--json]\n' +
      '  Rolls in a new signing key. It is published at once and signs after twice GATEHOUSE_JWKS_CACHE_MAX_AGE\n' +
      '  (so cached JWKS documents learn it first). --now is for a compromised key: the new key signs at once and the\n' +
      '  old one leaves the JWKS at once, so tokens it signed stop verifying (running nodes switch within a minute).',
    async run(argv) {
      const values = parse(argv, { now: { type: 'boolean' }, json: { type: 'boolean' } }, this.usage);
      const key = await withGatehouse((g) => g.services.keys.rotate({ immediate: values.now ?? false }), { keys: true });
      print(
        values.json,
        { kid: key.kid, alg: key.alg, state: key.state, activates_at: iso(key.activatesAt) },
        `new ${key.alg} key ${key.kid} signs from ${iso(key.activatesAt)}`,
      );
    },
  },
};

export const usage = `Usage: gatehouse <command> [options]

Commands:
  start          start the server
  migrate        bring the database schema up to date
  user create    create an account
  user list      list accounts
  user disable   disable an account and sign out its sessions
  client create  register an OAuth client
  client list    list OAuth clients
  client delete  delete an OAuth client and revoke its tokens
  keys list      list signing keys
  keys rotate    roll in a new signing key

Run "gatehouse <command> --help" for a command's options.`;

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    console.log(usage);
    return first ? 0 : 2;
  }
  const name = commands[first] ? first : `${first} ${second ?? ''}`.trim();
  const command = commands[name];
  if (!command) {
    console.error(`gatehouse: unknown command "${name}"\n${usage}`);
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`gatehouse: ${error.message}`);
      return error.exitCode;
    }
    if (isAuthError(error)) {
      console.error(`gatehouse: ${error.description}`);
      return 1;
    }
    console.error(`gatehouse: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
