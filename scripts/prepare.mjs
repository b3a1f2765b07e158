// npm's `prepare` (run by `npm install` and `npm ci`): compiles src/ to dist/ and the SDK package,
// packages/sdk/src/, to packages/sdk/dist/ (what `@gatehouse-auth/sdk` points to). A production install
// (`npm ci --omit=dev`) has no TypeScript: it keeps the dist/ built before, and fails clearly when
// there is none, rather than leaving a server that cannot start.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}

if (tsc === undefined) {
  if (existsSync('dist/cli/main.js')) {
    console.log('gatehouse: TypeScript is not installed (a production install): using the dist/ built before');
    process.exit(0);
  }
  console.error('gatehouse: dist/ is missing and TypeScript is not installed: run `npm ci && npm run build` first, then `npm ci --omit=dev`');
  process.exit(1);
}
for (const project of ['tsconfig.build.json', 'packages/sdk/tsconfig.build.json']) {
  const result = spawnSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
