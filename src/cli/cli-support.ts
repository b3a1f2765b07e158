import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig } from '../config/load-config.js';
import type { GatehouseConfig } from '../config/schema.js';
import { isAuthError } from '../core/errors.js';
import { MasterKeyError } from '../core/keys/sealed-box.js';
import { createGatehouse, type createLogger, MailConfigError, ProviderConfigError, type Gatehouse } from '../main.js';

/** A failure the user can fix: printed as one line, exit code 2 (usage) or 1. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface Command {
  /** One line for the list of commands. */
  summary: string;
  usage: string;
  run(argv: string[]): Promise<void>;
}

export function parse<T extends ParseArgsConfig['options']>(argv: string[], options: T, usage: string): ReturnType<typeof parseArgs<{ options: T; args: string[]; allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]}\n${usage}`, 2);
  }
}

/** Like {@link parse}, for a command that takes operands after its options. */
export function parseWithOperands<T extends ParseArgsConfig['options']>(
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

export function config(): GatehouseConfig {
  return loadedConfig().config;
}

export function loadedConfig(): ReturnType<typeof loadConfig> {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.problems.map((p) => `configuration: ${p}`).join('\ngatehouse: '), 2);
    throw error;
  }
}

export async function withGatehouse<T>(run: (gatehouse: Gatehouse) => Promise<T>, options: { keys?: boolean } = {}): Promise<T> {
  const gatehouse = await open(config(), { withoutHttp: true, ...options });
  try {
    return await run(gatehouse);
  } finally {
    await gatehouse.close();
  }
}

export async function open(
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
    if (error instanceof MailConfigError) throw mailConfigProblem(error);
    if (error instanceof ProviderConfigError) {
      throw new CliError(error.message.split('\n').map((line) => `configuration: ${line}`).join('\ngatehouse: '), 2);
    }
    if (error instanceof MasterKeyError) {
      throw new CliError(`cannot open the signing keys: ${error.message}; set GATEHOUSE_SECRET to the master key they were sealed with (the first key seals, all open), or if it is lost for good see "gatehouse keys reset --help"`);
    }
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new CliError(`cannot open the database (${describeDatabase(cfg.databaseUrl)}): ${reason}`);
  }
}

/** A mail setting's problems, one `configuration:` line each (exit code 2). */
export function mailConfigProblem(error: MailConfigError): CliError {
  const lines = error.message.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return new CliError(lines.map((line) => `configuration: ${line}`).join('\ngatehouse: '), 2);
}

export function describeDatabase(url: string): string {
  if (!url.includes('://')) return url;
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

export function print(json: boolean | undefined, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value) : text);
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
