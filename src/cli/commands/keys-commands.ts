import { CliError, iso, parse, print, withGatehouse, type Command } from '../cli-support.js';

export const keysCommands: Record<string, Command> = {
  'keys list': {
    summary: 'list signing keys',
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
    summary: 'roll in a new signing key',
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

  'keys reset': {
    summary: 'replace every signing key after GATEHOUSE_SECRET was lost',
    usage:
      'Usage: gatehouse keys reset --yes [--json]\n' +
      '  For a lost GATEHOUSE_SECRET (or development master.key): deletes every stored signing key, which\n' +
      '  nothing can open any more, and creates new ones sealed with the current secret. Every access and ID\n' +
      '  token signed so far stops verifying (clients refresh); accounts, sessions, refresh tokens and clients\n' +
      '  are kept. Browsers lose their trusted-device cookies. Restart every running node afterwards.',
    async run(argv) {
      const values = parse(argv, { yes: { type: 'boolean' }, json: { type: 'boolean' } }, this.usage);
      if (!values.yes) throw new CliError(`every token signed so far will stop verifying: add --yes to confirm\n${this.usage}`, 2);
      const { discarded, keys } = await withGatehouse(async (g) => {
        const count = await g.services.keys.discardAll();
        // With no sealed key left, a development master key may be generated again.
        await g.loadKeys();
        return { discarded: count, keys: g.services.keys.list() };
      });
      print(
        values.json,
        { discarded, keys: keys.map((k) => ({ kid: k.kid, alg: k.alg, state: k.state })) },
        `deleted ${discarded} signing key${discarded === 1 ? '' : 's'}; new: ${keys.map((k) => `${k.alg} ${k.kid}`).join(', ')}`,
      );
    },
  },
};
