import { readFileSync } from 'node:fs';
import { isAuthError } from '../core/errors.js';
import { CliError, type Command } from './cli-support.js';
import { clientCommands } from './commands/client-commands.js';
import { keysCommands } from './commands/keys-commands.js';
import { mailCommands } from './commands/mail-commands.js';
import { serverCommands } from './commands/server-commands.js';
import { userCommands } from './commands/user-commands.js';

export { CliError, type Command } from './cli-support.js';

export const commands: Record<string, Command> = { ...serverCommands, ...userCommands, ...clientCommands, ...keysCommands, ...mailCommands };

const names = Object.keys(commands);
const width = Math.max(...names.map((name) => name.length)) + 2;
const list = (selected: string[]): string => selected.map((name) => `  ${name.padEnd(width)}${commands[name]!.summary}`).join('\n');

export const usage = `Usage: gatehouse <command> [options]

Commands:
${list(names)}

Run "gatehouse <command> --help" for a command's options, "gatehouse --version" for the version.`;

/** The commands of a group such as `user`, or undefined when `group` is not one. */
function groupUsage(group: string): string | undefined {
  const members = names.filter((name) => name.startsWith(`${group} `));
  if (members.length === 0) return undefined;
  return `Usage: gatehouse ${group} <command> [options]\n\nCommands:\n${list(members)}\n\nRun "gatehouse ${group} <command> --help" for a command's options.`;
}

/** The version of the installed Gatehouse (package.json, two folders up from src/cli or dist/cli). */
function version(): string {
  const { version: value } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return value;
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [first, second, third] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    console.log(usage);
    return first ? 0 : 2;
  }
  if (first === '--version' || first === '-v' || first === 'version') {
    console.log(`gatehouse ${version()}`);
    return 0;
  }
  const group = groupUsage(first);
  if (group !== undefined && (second === undefined || second === '--help' || second === '-h' || second === 'help')) {
    // `gatehouse user` lists what `user` can do; asked for with --help it is not a mistake.
    console.log(group);
    return second === undefined ? 2 : 0;
  }
  // One, two or three words name a command (`start`, `user create`, `user mfa reset`).
  const three = `${first} ${second ?? ''} ${third ?? ''}`.trim();
  const name = commands[first] ? first : commands[three] ? three : `${first} ${second ?? ''}`.trim();
  const command = commands[name];
  if (!command) {
    console.error(`gatehouse: unknown command "${name}"\n${group ?? usage}`);
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
