import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../support/agent.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { freePort } from '../support/services.js';
import { waitFor } from './support/fake-issuer.js';

/**
 * examples/sdk/resource-server.ts runs as its own process, importing `gatehouse/sdk` the way an
 * application does (through the package's "exports", i.e. the built dist/), against a running
 * Gatehouse. `npm ci` builds dist/ (prepare); locally run `npm run build` after changing src/sdk.
 */
const root = resolve(import.meta.dirname, '../..');
const built = join(root, 'dist/sdk/index.js');

function assertBuilt(): void {
  if (!existsSync(built)) throw new Error('dist/sdk is missing: run `npm run build` first');
  const builtAt = statSync(built).mtimeMs;
  const stale = readdirSync(join(root, 'src/sdk')).filter((name) => !name.endsWith('.test.ts') && statSync(join(root, 'src/sdk', name)).mtimeMs > builtAt);
  if (stale.length > 0) throw new Error(`dist/sdk is older than src/sdk (${stale.join(', ')}): run \`npm run build\``);
}

describe('examples/sdk resource server', () => {
  let t: TestGatehouse;
  let child: ChildProcess;
  let base: string;
  let token: string;
  let notesToken: string;
  let output = '';

  beforeAll(async () => {
    assertBuilt();
    // As examples/sdk/README.md starts it: /api/token offers the scope of the example's /api/notes.
    const listening = await startListeningGatehouse({ env: { GATEHOUSE_API_TOKEN_SCOPES: 'notes:read' } });
    t = listening;
    const issuer = listening.issuer;
    const agent = new TestAgent(t.app, issuer);
    await agent.signUp('example-user@example.com', 'violet lantern crosses 9 rivers');
    token = (await agent.postJson('/api/token', {})).json().access_token;
    notesToken = (await agent.postJson('/api/token', { scope: 'notes:read' })).json().access_token;

    const apiPort = await freePort();
    base = `http://127.0.0.1:${apiPort}`;
    child = spawn(process.execPath, ['--import', 'tsx', 'examples/sdk/resource-server.ts'], {
      cwd: root,
      env: { ...process.env, GATEHOUSE_ISSUER: issuer, PORT: String(apiPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('resource server on') || child.exitCode !== null, 'the example to listen', 20_000);
    expect(output).toContain(`resource server on ${base}`);
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await t?.close();
  });

  it('answers a caller with a Gatehouse token, and RFC 6750 errors otherwise', async () => {
    const me = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ subject: expect.any(String), clientId: 'gatehouse', scopes: [] });

    const anonymous = await fetch(`${base}/api/me`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');

    const notes = await fetch(`${base}/api/notes`, { headers: { authorization: `Bearer ${token}` } });
    expect(notes.status).toBe(403);
    expect(notes.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", error_description="requires scope notes:read", scope="notes:read"');
  });

  it('lets a token minted with scope notes:read (POST /api/token {"scope":"notes:read"}) reach the scoped route', async () => {
    const notes = await fetch(`${base}/api/notes`, { headers: { authorization: `Bearer ${notesToken}` } });
    expect(notes.status).toBe(200);
    expect(await notes.json()).toEqual({ owner: expect.any(String), notes: [] });
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
