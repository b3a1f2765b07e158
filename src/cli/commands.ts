import { isAuthError } from '../core/errors.js';
import { CliError, type Command } from './cli-support.js';
import { clientCommands } from './commands/client-commands.js';
import { keysCommands } from './commands/keys-commands.js';
import { serverCommands } from './commands/server-commands.js';
import { userCommands } from './commands/user-commands.js';

export { CliError, type Command } from './cli-support.js';

export const commands: Record<string, Command> = { ...serverCommands, ...userCommands, ...clientCommands, ...keysCommands };

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
