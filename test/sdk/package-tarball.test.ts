import { execFile } from 'node:child_process';
import { copyFileSync, lstatSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../support/agent.js';
import { startListeningGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { assertSdkBuilt, sdkDir } from './support/built-sdk.js';

/**
 * The published package as a stranger gets it: `npm pack` of packages/sdk, installed with Express,
 * Fastify and Hono from the registry into an empty project under the system's temporary folder
 * (outside the repository, so Node cannot find the repository's node_modules), then a script run
 * there verifies a real Gatehouse token with each middleware and refuses a tampered one, and a
 * strict TypeScript file there compiles against the packed declarations.
 */
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

/** The versions the repository itself is tested with, so the install is reproducible. */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The environment without npm's own variables (`npm test` sets npm_config_local_prefix and the like to the repository). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));
}

interface Answer {
  status: number;
  wwwAuthenticate: string | null;
  body: Record<string, unknown>;
}
interface ConsumerResult {
  resolved: { sdk: string; jose: string };
  express: Record<'good' | 'tampered' | 'missing', Answer>;
  fastify: Record<'good' | 'tampered' | 'missing', Answer>;
  hono: Record<'good' | 'tampered' | 'missing', Answer>;
}

describe('@gatehouse-auth/sdk from its tarball', () => {
  let project: string;
  let tarballFiles: string[];
  let packed: { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
  let t: TestGatehouse & { issuer: string };
  let token: string;
  let subject: string;

  beforeAll(async () => {
    // dist/ is built by `npm ci` (prepare) or `npm run build`; building it here would race the
    // example test, which loads it meanwhile. So pack what is built, and refuse a stale build.
    assertSdkBuilt();
    project = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-consumer-'));
    expect(realpathSync(project).startsWith(`${realpathSync(root)}/`)).toBe(false);
    const env = cleanEnv();

    // `--ignore-scripts`: prepack would rebuild dist/ (see above).
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', project], { cwd: sdkDir, env });
    const tarballs = readdirSync(project).filter((name) => name.endsWith('.tgz'));
    expect(tarballs).toEqual(['gatehouse-auth-sdk-0.1.0.tgz']);
    const tarball = join(project, tarballs[0]!);
    tarballFiles = (await run('tar', ['-tzf', tarball], { env })).stdout.split('\n').filter(Boolean);

    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sdk-consumer', private: true, type: 'module' }, null, 2));
    // The frameworks, and what a TypeScript application adds to check the declarations.
    const packages = ['express', 'fastify', 'hono', 'typescript', '@types/express', '@types/node'].map((name) => `${name}@${installedVersion(name)}`);
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...packages], { cwd: project, env, timeout: 170_000 });
    packed = JSON.parse(readFileSync(join(project, 'node_modules/@gatehouse-auth/sdk/package.json'), 'utf8'));
    copyFileSync(fileURLToPath(new URL('./fixtures/tarball-consumer.mjs', import.meta.url)), join(project, 'check.mjs'));
    copyFileSync(fileURLToPath(new URL('./fixtures/tarball-consumer-types.ts', import.meta.url)), join(project, 'app.ts'));
    const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['app.ts'] }, null, 2));

    t = await startListeningGatehouse();
    const agent = new TestAgent(t.app, t.issuer);
    await agent.signUp('tarball-user@example.com', 'amber kettles sing 4 sonnets');
    token = (await agent.postJson('/api/token', {})).json().access_token;
    subject = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub;
  }, 180_000);

  afterAll(async () => {
    await t?.close();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('packs the built JavaScript, its declarations, package.json and the README, and nothing else', () => {
    const files = tarballFiles.map((path) => path.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/express.js', 'dist/fastify.js', 'dist/hono.js']));
    expect(files.filter((path) => /(^|\/)src\//.test(path) || /\.test\./.test(path) || (path.endsWith('.ts') && !path.endsWith('.d.ts')))).toEqual([]);
    expect(files.filter((path) => !(path === 'package.json' || path === 'README.md' || path.startsWith('dist/')))).toEqual([]);
  });

  it('depends on jose only; the frameworks are optional peers', () => {
    expect(Object.keys(packed.dependencies ?? {})).toEqual(['jose']);
    expect(Object.keys(packed.peerDependencies ?? {}).sort()).toEqual(['@types/express', 'express', 'fastify', 'hono']);
  });

  it('is installed as a copy inside the project, not a link into the repository', () => {
    expect(lstatSync(join(project, 'node_modules/@gatehouse-auth/sdk')).isSymbolicLink()).toBe(false);
  });

  it('ships declarations a strict TypeScript application compiles against, without skipLibCheck', async () => {
    const tsc = join(project, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, env: cleanEnv(), timeout: 110_000 }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe('');
  }, 120_000);

  it('verifies a real Gatehouse token with each middleware, and refuses a tampered one', async () => {
    const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: project, env: { ...cleanEnv(), ISSUER: t.issuer, TOKEN: token }, timeout: 60_000 });
    const result = JSON.parse(stdout) as ConsumerResult;
    const inProject = `file://${realpathSync(project)}/node_modules/`;
    expect(result.resolved.sdk.startsWith(`${inProject}@gatehouse-auth/sdk/dist/`)).toBe(true);
    expect(result.resolved.jose.startsWith(`${inProject}jose/`)).toBe(true);

    for (const framework of ['express', 'fastify', 'hono'] as const) {
      const { good, tampered, missing } = result[framework];
      expect(good, framework).toEqual({ status: 200, wwwAuthenticate: null, body: { subject, clientId: 'gatehouse' } });
      expect(tampered.status, framework).toBe(401);
      expect(tampered.wwwAuthenticate, framework).toMatch(/^Bearer error="invalid_token"/);
      expect(tampered.body.error, framework).toBe('invalid_token');
      expect(missing, framework).toEqual({ status: 401, wwwAuthenticate: 'Bearer', body: expect.objectContaining({ error: 'invalid_token' }) });
    }
  });
});
