import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** packages/sdk: the `@gatehouse-auth/sdk` workspace. */
export const sdkDir = resolve(import.meta.dirname, '../../../packages/sdk');

/**
 * Tests that load the SDK as an application does (through its "exports", i.e. packages/sdk/dist/)
 * need the build to be there and newer than the source. `npm ci` builds it (prepare); locally run
 * `npm run build` after changing packages/sdk/src.
 * @throws Error naming the command to run when dist/ is missing or stale.
 */
export function assertSdkBuilt(): void {
  const built = join(sdkDir, 'dist/index.js');
  if (!existsSync(built)) throw new Error('packages/sdk/dist is missing: run `npm run build` first');
  const builtAt = statSync(built).mtimeMs;
  const source = join(sdkDir, 'src');
  const stale = readdirSync(source).filter((name) => !name.endsWith('.test.ts') && statSync(join(source, name)).mtimeMs > builtAt);
  if (stale.length > 0) throw new Error(`packages/sdk/dist is older than packages/sdk/src (${stale.join(', ')}): run \`npm run build\``);
}
