import { CliError, iso, parse, print, withGatehouse, type Command } from '../cli-support.js';
import { promptHidden, readStdin } from '../prompt.js';

export const userCommands: Record<string, Command> = {
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
};
