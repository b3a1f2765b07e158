import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../support/agent.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { freePort } from '../support/services.js';
import { assertSdkBuilt } from './support/built-sdk.js';
import { waitFor } from './support/fake-issuer.js';

/**
 * examples/sdk/resource-server.ts runs as its own process from its own folder, importing
 * `@gatehouse-auth/sdk` the way an application does (through the package's "exports", i.e. the built
 * packages/sdk/dist/, found through the workspace link in node_modules), against a running Gatehouse.
 */
const root = resolve(import.meta.dirname, '../..');
const exampleDir = join(root, 'examples/sdk');

describe('examples/sdk resource server', () => {
  let t: TestGatehouse;
  let child: ChildProcess;
  let base: string;
  let token: string;
  let notesToken: string;
  let output = '';

  beforeAll(async () => {
    assertSdkBuilt();
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
    // From examples/sdk, tsx reads that folder's tsconfig.json (no "paths" to the SDK's source).
    child = spawn(process.execPath, ['--import', 'tsx', 'resource-server.ts'], {
      cwd: exampleDir,
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
