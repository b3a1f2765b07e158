import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig } from '../config/load-config.js';
import type { GatehouseConfig } from '../config/schema.js';
import { isAuthError } from '../core/errors.js';
import { MasterKeyError } from '../core/keys/sealed-box.js';
import { createGatehouse, createLogger, ensureDataDir, type Gatehouse } from '../main.js';
import { promptHidden, readStdin } from './prompt.js';

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
  options: { withoutHttp: boolean; logger?: ReturnType<typeof createLogger>; keys?: boolean },
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

export const commands: Record<string, Command> = {
  start: {
    usage: 'Usage: gatehouse start\n  Starts the server (settings from GATEHOUSE_* environment variables; see README).',
    async run(argv) {
      parse(argv, {}, this.usage);
      const { config: cfg, warnings } = loadedConfig();
      const logger = createLogger(cfg);
      for (const warning of warnings) logger.warn(warning);
      const embedded = !cfg.databaseUrl.includes('://');
      if (embedded) {
        const fresh = !existsSync(cfg.dataDir);
        ensureDataDir(cfg.dataDir);
        if (fresh) logger.info(`created data folder ${cfg.dataDir} (mode 0700)`);
      }
      const gatehouse = await open(cfg, { withoutHttp: false, logger });
      logger.info(`database: ${embedded ? `SQLite ${cfg.databaseUrl}` : describeDatabase(cfg.databaseUrl)}`);
      const app = gatehouse.app!;
      try {
        await app.listen({ port: cfg.port, host: cfg.host });
      } catch (error) {
        await gatehouse.close();
        const code = (error as { code?: string }).code;
        throw new CliError(code === 'EADDRINUSE' ? `port ${cfg.port} is in use; set PORT to another port` : `cannot listen: ${(error as Error).message}`);
      }
      gatehouse.startBackgroundJobs();
      logger.info(`Gatehouse is running at ${cfg.issuer}`);
      logger.info(`  sign in:   ${cfg.issuer}/login`);
      logger.info(`  sign up:   ${cfg.issuer}/signup${cfg.signupEnabled ? '' : ' (closed)'}`);
      logger.info(`  health:    ${cfg.issuer}/healthz, ${cfg.issuer}/readyz`);
      logger.info('press Ctrl-C to stop');
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info(`${signal}: finishing requests in flight, then stopping`);
        gatehouse.close().then(
          () => {
            logger.info('stopped');
            process.exit(0);
          },
          (error: unknown) => {
            logger.error({ err: error }, 'error while stopping');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    },
  },

  migrate: {
    usage: 'Usage: gatehouse migrate [--json]\n  Brings the database schema up to date (also done at every start).',
    async run(argv) {
      const values = parse(argv, { json: { type: 'boolean' } }, this.usage);
      const cfg = config();
      const gatehouse = await open(cfg, { withoutHttp: true });
      // createGatehouse migrates; a second run reports that nothing is left to apply.
      const { applied } = await gatehouse.storage.migrate();
      await gatehouse.close();
      print(values.json, { database: describeDatabase(cfg.databaseUrl), applied }, `database ${describeDatabase(cfg.databaseUrl)} is up to date`);
    },
  },

  'user create': {
    usage:
      'Usage: gatehouse user create --email EMAIL [--password PASSWORD | --password-stdin] [--json]\n' +
      '  Creates an account (works when sign-up is closed). Without a password option it asks for one.\n' +
      '  --password puts the password in the process list and shell history: prefer the prompt or --password-stdin.',
    async run(argv) {
      const values = parse(
        argv,
        { email: { type: 'string' }, password: { type: 'string' }, 'password-stdin': { type: 'boolean' }, json: { type: 'boolean' } },
        this.usage,
      );
      if (!values.email) throw new CliError(`--email is required\n${this.usage}`, 2);
      let password = values.password;
      if (password === undefined) {
        if (values['password-stdin'] || !process.stdin.isTTY) password = await readStdin();
        else password = await promptHidden('Password: ');
      }
      const email = values.email;
      const user = await withGatehouse((g) => g.services.accounts.register({ email, password: password ?? '' }, { by: 'admin' }));
      print(values.json, { id: user.id, email: user.email, created_at: iso(user.createdAt) }, `created ${user.email} (${user.id})`);
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
