import { readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Keeps the layering of shared/DESIGN.md honest: reads every import line under src/ and under
 * packages/sdk/src/ (the `sdk` layer, published as `@gatehouse-auth/sdk`) and fails on an edge the
 * design does not allow.
 */
const root = resolve(import.meta.dirname, '../../src');
const sdkRoot = resolve(import.meta.dirname, '../../packages/sdk/src');

/** `outside`: anything not in a layer (a relative import leaving src/ or packages/sdk/src/). */
type Layer = 'core' | 'storage' | 'config' | 'http' | 'ui' | 'mail' | 'composition' | 'sdk' | 'cli' | 'main' | 'outside';

const allowed: Record<Layer, Layer[]> = {
  core: ['core'],
  storage: ['storage', 'core'],
  config: ['config', 'core'],
  http: ['http', 'core', 'config', 'ui'],
  ui: ['ui'],
  // The SMTP adapter and the development outbox, behind core's mail port; the templates are ui's.
  mail: ['mail', 'core', 'config', 'ui'],
  sdk: ['sdk'],
  // Parts of the composition root (main.ts), each building one area's services from the configuration.
  composition: ['composition', 'core', 'config', 'storage', 'mail'],
  cli: ['cli', 'core', 'config', 'storage', 'http', 'ui', 'mail', 'composition', 'main'],
  main: ['core', 'config', 'storage', 'http', 'ui', 'mail', 'composition'],
  outside: [],
};

/** Packages only some layers may use: the framework stays in http, SQL drivers in storage. */
const packageOwners: Record<string, Layer[]> = {
  // sdk: its Fastify middleware imports Fastify's types only (test/sdk/standalone.test.ts checks that).
  fastify: ['http', 'main', 'composition', 'cli', 'sdk'],
  '@fastify/cookie': ['http'],
  '@fastify/formbody': ['http'],
  kysely: ['storage'],
  'better-sqlite3': ['storage'],
  pg: ['storage'],
  nodemailer: ['mail'],
  // The server does not use its own SDK; the SDK does not import itself by name.
  '@gatehouse-auth/sdk': [],
};

function inside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function layerOf(file: string): Layer {
  if (inside(sdkRoot, file)) return 'sdk';
  if (!inside(root, file)) return 'outside';
  const rel = relative(root, file).replace(/\.js$/, '.ts');
  if (rel === 'main.ts') return 'main';
  const layer = rel.split('/')[0]!;
  return layer in allowed && layer !== 'sdk' ? (layer as Layer) : 'outside';
}

function shown(file: string): string {
  return relative(resolve(root, '..'), file);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

describe('import layering', () => {
  const files = [...sourceFiles(root), ...sourceFiles(sdkRoot)];

  it('finds the source tree and the SDK', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files.filter((file) => layerOf(file) === 'sdk').length).toBeGreaterThan(5);
    expect(files.filter((file) => layerOf(file) === 'outside')).toEqual([]);
  });

  it('has only the edges shared/DESIGN.md allows', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const specifier = match[1] ?? match[2] ?? '';
        if (specifier.startsWith('.')) {
          const to = layerOf(resolve(dirname(file), specifier));
          if (!allowed[from].includes(to)) violations.push(`${shown(file)} (${from}) imports ${specifier} (${to})`);
        } else {
          const pkg = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
          const owners = packageOwners[pkg];
          if (owners && !owners.includes(from)) violations.push(`${shown(file)} (${from}) imports package ${pkg}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('routes import core, never each other (STYLE.md: a rule two routes share belongs in a core service)', () => {
    const routes = files.filter((file) => shown(file).startsWith('src/http/routes/'));
    expect(routes.length).toBeGreaterThan(5);
    const violations: string[] = [];
    for (const file of routes) {
      for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const specifier = match[1] ?? match[2] ?? '';
        if (specifier.startsWith('./')) violations.push(`${shown(file)} imports ${specifier}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
