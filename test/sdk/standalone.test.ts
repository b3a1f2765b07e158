import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The SDK runs in an application that has nothing else of Gatehouse: at run time src/sdk/ loads
 * only its own files, `jose` and node built-ins. Framework packages appear as type imports only,
 * so `gatehouse/sdk/express` does not make Express a dependency of the package.
 */
const sdk = resolve(import.meta.dirname, '../../src/sdk');
const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

describe('SDK dependencies', () => {
  const files = readdirSync(sdk).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));

  it('finds the SDK', () => {
    expect(files).toEqual(expect.arrayContaining(['index.ts', 'verifier.ts', 'express.ts', 'fastify.ts', 'hono.ts']));
  });

  it('loads only its own files, jose and node built-ins at run time', () => {
    const problems: string[] = [];
    for (const file of files) {
      for (const match of readFileSync(join(sdk, file), 'utf8').matchAll(IMPORT)) {
        const typeOnly = match[2] !== undefined;
        const specifier = match[3] ?? match[4] ?? match[5] ?? '';
        const runtimeOk = (specifier.startsWith('./') && !specifier.includes('..')) || specifier === 'jose' || specifier.startsWith('node:');
        const typeOk = runtimeOk || ['express', 'hono'].includes(specifier);
        if (!(typeOnly ? typeOk : runtimeOk)) problems.push(`${file}: ${match[0].trim()}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
