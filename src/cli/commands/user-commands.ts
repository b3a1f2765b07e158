import type { User } from '../../core/ports.js';
import type { Gatehouse } from '../../main.js';
import { CliError, iso, parse, print, withGatehouse, type Command } from '../cli-support.js';
import { promptHidden, promptLine, readStdin } from '../prompt.js';

/**
 * The new password of `user create` and `user set-password`: --password, else standard input when
 * --password-stdin is given or it is not a terminal, else asked twice on the terminal.
 */
async function readNewPassword(values: { password?: string | undefined; 'password-stdin'?: boolean | undefined }): Promise<string> {
  if (values.password !== undefined) return values.password;
  if (values['password-stdin'] || !process.stdin.isTTY) return readStdin();
  const password = await promptHidden('Password: ');
  if ((await promptHidden('Password again: ')) !== password) throw new CliError('the two passwords differ; nothing was changed');
  return password;
}

/** Runs `action` on the account with this email. */
function withAccount<T>(email: string, action: (gatehouse: Gatehouse, user: User) => Promise<T>): Promise<T> {
  return withGatehouse(async (g) => action(g, await g.services.accounts.getByEmail(email)));
}

const EMAIL_OPTIONS = { email: { type: 'string' }, json: { type: 'boolean' } } as const;
const PASSWORD_OPTIONS = { password: { type: 'string' }, 'password-stdin': { type: 'boolean' } } as const;

export const userCommands: Record<string, Command> = {
  'user create': {
    summary: 'create an account',
    usage:
      'Usage: gatehouse user create --email EMAIL [--name NAME] [--password PASSWORD | --password-stdin] [--json]\n' +
      '  Creates an account (works when sign-up is closed). Without a password option it asks for one.\n' +
      '  --name is the OpenID Connect `name` claim (scope profile).\n' +
      '  --password puts the password in the process list and shell history: prefer the prompt or --password-stdin.',
    async run(argv) {
      const values = parse(
        argv,
        { ...EMAIL_OPTIONS, ...PASSWORD_OPTIONS, name: { type: 'string' } },
        this.usage,
      );
      if (!values.email) throw new CliError(`--email is required\n${this.usage}`, 2);
      const name = values.name;
      const password = await readNewPassword(values);
      const email = values.email;
      const user = await withGatehouse((g) => g.services.accounts.register({ email, password, ...(name === undefined ? {} : { name }) }, { by: 'admin' }));
      print(values.json, { id: user.id, email: user.email, name: user.name, created_at: iso(user.createdAt) }, `created ${user.email} (${user.id})`);
    },
  },

  'user list': {
    summary: 'list accounts',
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
    summary: 'disable an account and sign out its sessions',
    usage: 'Usage: gatehouse user disable --email EMAIL [--json]\n  Disables an account and signs out all its sessions.',
    async run(argv) {
      const values = parse(argv, EMAIL_OPTIONS, this.usage);
      if (!values.email) throw new CliError(`--email is required\n${this.usage}`, 2);
      const user = await withAccount(values.email, async (g, found) => {
        await g.services.accounts.disable(found.id);
        return found;
      });
      print(values.json, { id: user.id, email: user.email, disabled: true }, `disabled ${user.email}`);
    },
  },

  'user enable': {
    summary: 'let a disabled account sign in again',
    usage: 'Usage: gatehouse user enable --email EMAIL [--json]\n  Lets a disabled account sign in again (the sessions that disabling ended stay ended).',
    async run(argv) {
      const values = parse(argv, EMAIL_OPTIONS, this.usage);
      if (!values.email) throw new CliError(`--email is required\n${this.usage}`, 2);
      const user = await withAccount(values.email, async (g, found) => {
        await g.services.accounts.enable(found.id);
        return found;
      });
      print(values.json, { id: user.id, email: user.email, disabled: false }, `enabled ${user.email}`);
    },
  },

  'user set-password': {
    summary: 'set a new password for an account and sign out its sessions',
    usage:
      'Usage: gatehouse user set-password --email EMAIL [--password PASSWORD | --password-stdin] [--json]\n' +
      '  Sets a new password for an account (for a forgotten one; the password policy applies), clears its\n' +
      '  sign-in lockout and signs out all its sessions. Without a password option it asks for one, twice.\n' +
      '  --password puts the password in the process list and shell history: prefer the prompt or --password-stdin.',
    async run(argv) {
      const values = parse(argv, { ...EMAIL_OPTIONS, ...PASSWORD_OPTIONS }, this.usage);
      if (!values.email) throw new CliError(`--email is required\n${this.usage}`, 2);
      const email = values.email;
      // The account is checked before the password is asked for.
      await withAccount(email, async () => undefined);
      const password = await readNewPassword(values);
      const user = await withAccount(email, async (g, found) => {
        await g.services.accounts.resetPassword(found.id, password);
        return found;
      });
      print(values.json, { id: user.id, email: user.email, password_set: true }, `set a new password for ${user.email}; its sessions are signed out`);
    },
  },

  'user mfa reset': {
    summary: "remove an account's second factors (support, for a lost phone or passkey)",
    usage:
      'Usage: gatehouse user mfa reset --email EMAIL [--json]\n' +
      '  Removes every authenticator app, passkey and recovery code of an account, for its owner who lost\n' +
      '  them (check who is asking first). It then signs in with its password or provider alone, enrolling\n' +
      '  again where GATEHOUSE_MFA=required. Audited (mfa.reset) and emailed to the account.',
    async run(argv) {
      const values = parse(argv, EMAIL_OPTIONS, this.usage);
      if (!values.email) throw new CliError(`--email is required\n${this.usage}`, 2);
      const { user, removed } = await withAccount(values.email, async (g, found) => ({ user: found, removed: await g.services.multiFactor.reset(found, { by: 'admin' }) }));
      print(
        values.json,
        { id: user.id, email: user.email, apps_removed: removed.apps, passkeys_removed: removed.passkeys },
        `removed ${removed.apps} authenticator app(s), ${removed.passkeys} passkey(s) and the recovery codes of ${user.email}`,
      );
    },
  },

  'user delete': {
    summary: 'delete an account and revoke everything it holds',
    usage:
      'Usage: gatehouse user delete --email EMAIL [--yes] [--json]\n' +
      '  Deletes an account for good: its sessions, refresh tokens and access tokens are revoked, and its\n' +
      '  linked providers and consents removed, in one transaction. Asks to type the email again unless --yes\n' +
      '  (required when standard input is not a terminal).',
    async run(argv) {
      const values = parse(argv, { ...EMAIL_OPTIONS, yes: { type: 'boolean' } }, this.usage);
      if (!values.email) throw new CliError(`--email is required\n${this.usage}`, 2);
      const email = values.email;
      await withAccount(email, async () => undefined);
      if (!values.yes) {
        if (!process.stdin.isTTY) throw new CliError(`deleting an account cannot be undone: add --yes to confirm\n${this.usage}`, 2);
        const answer = await promptLine(`Delete ${email} and everything of it? This cannot be undone. Type the email to confirm: `);
        if (answer.trim().toLowerCase() !== email.trim().toLowerCase()) throw new CliError('not confirmed; nothing was deleted');
      }
      const user = await withAccount(email, async (g, found) => {
        await g.services.accounts.delete(found.id);
        return found;
      });
      print(values.json, { id: user.id, email: user.email, deleted: true }, `deleted ${user.email} (${user.id})`);
    },
  },
};
