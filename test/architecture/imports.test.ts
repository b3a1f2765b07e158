import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Keeps the layering of shared/DESIGN.md honest: reads every import line under src/ and fails on
 * an edge the design does not allow.
 */
const root = resolve(import.meta.dirname, '../../src');

type Layer = 'core' | 'storage' | 'config' | 'http' | 'ui' | 'sdk' | 'cli' | 'main';

const allowed: Record<Layer, Layer[]> = {
  core: ['core'],
  storage: ['storage', 'core'],
  config: ['config', 'core'],
  http: ['http', 'core', 'config', 'ui'],
  ui: ['ui'],
  sdk: ['sdk'],
  cli: ['cli', 'core', 'config', 'storage', 'http', 'ui', 'main'],
  main: ['core', 'config', 'storage', 'http', 'ui'],
};

/** Packages only some layers may use: the framework stays in http, SQL drivers in storage. */
const packageOwners: Record<string, Layer[]> = {
  fastify: ['http', 'main', 'cli'],
  '@fastify/cookie': ['http'],
  '@fastify/formbody': ['http'],
  kysely: ['storage'],
  'better-sqlite3': ['storage'],
  pg: ['storage'],
};

function layerOf(file: string): Layer {
  const rel = relative(root, file).replace(/\.js$/, '.ts');
  if (rel === 'main.ts') return 'main';
  return rel.split('/')[0] as Layer;
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
  const files = sourceFiles(root);

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it('has only the edges shared/DESIGN.md allows', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const specifier = match[1] ?? match[2] ?? '';
        if (specifier.startsWith('.')) {
          const to = layerOf(resolve(dirname(file), specifier));
          if (!allowed[from].includes(to)) violations.push(`${relative(root, file)} (${from}) imports ${specifier} (${to})`);
        } else {
          const pkg = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
          const owners = packageOwners[pkg];
          if (owners && !owners.includes(from)) violations.push(`${relative(root, file)} (${from}) imports package ${pkg}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
