import { iso, parse, print, withGatehouse, type Command } from '../cli-support.js';

export const keysCommands: Record<string, Command> = {
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
