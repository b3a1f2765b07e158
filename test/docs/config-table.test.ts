import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withConfigTable } from '../../src/config/config-docs.js';
import { configSchema, envNames, type SettingName } from '../../src/config/schema.js';

describe('README configuration table', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('is what the schema generates (run `npm run docs:config` after changing a setting)', () => {
    expect(readme).toBe(withConfigTable(readme));
  });

  it('names every setting', () => {
    for (const name of Object.keys(configSchema.properties) as SettingName[]) {
      expect(readme).toContain(`\`${envNames(name)[0]}\``);
    }
  });
});
