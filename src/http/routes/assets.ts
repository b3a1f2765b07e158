import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { passkeysScript } from '../../ui/assets/passkeys-script.js';
import type { Theme } from '../../ui/theme.js';

/** SimpleWebAuthn's browser bundle, served from this origin (CSP `script-src 'self'`, no third-party CDN). */
function simpleWebAuthnBrowserBundle(): string {
  // The package's exports name only its modules; the UMD bundle sits beside them in the package folder.
  const entry = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  let dir = dirname(entry);
  while (!dir.endsWith(join('@simplewebauthn', 'browser')) && dirname(dir) !== dir) dir = dirname(dir);
  return readFileSync(join(dir, 'dist', 'bundle', 'index.umd.min.js'), 'utf8');
}

/**
 * The stylesheet, with the configured brand's colour (its URL carries a content hash, so it may be
 * cached for long), and the scripts of the passkey buttons.
 */
export function registerAssets(app: FastifyInstance, theme: Theme, options: { passkeys: boolean }): void {
  app.get('/assets/gatehouse.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=86400').send(theme.stylesheet),
  );
  if (!options.passkeys) return;
  const bundle = simpleWebAuthnBrowserBundle();
  app.get('/assets/simplewebauthn-browser.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(bundle));
  app.get('/assets/passkeys.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(passkeysScript));
}
