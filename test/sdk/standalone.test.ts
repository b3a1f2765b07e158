import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sdkDir } from './support/built-sdk.js';

/**
 * The SDK runs in an application that has nothing else of Gatehouse: at run time
 * packages/sdk/src/ loads only its own files, `jose` and node built-ins. Framework packages appear
 * as type imports only, so `@gatehouse-auth/sdk/express` does not make Express a dependency of the
 * package; its package.json says the same (jose a dependency, the frameworks optional peers).
 */
const sdk = join(sdkDir, 'src');
const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
const FRAMEWORKS = ['express', 'fastify', 'hono'];

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
const manifest = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')) as PackageJson;

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
        const typeOk = runtimeOk || FRAMEWORKS.includes(specifier);
        if (!(typeOnly ? typeOk : runtimeOk)) problems.push(`${file}: ${match[0].trim()}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('declares jose as its only dependency and the frameworks as optional peers', () => {
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['jose']);
    expect(manifest.devDependencies).toBeUndefined();
    for (const framework of FRAMEWORKS) {
      expect(manifest.peerDependencies?.[framework], framework).toBeDefined();
      expect(manifest.peerDependenciesMeta?.[framework]?.optional, framework).toBe(true);
    }
    // Every peer is optional: an application using one framework installs none of the others.
    for (const peer of Object.keys(manifest.peerDependencies ?? {})) expect(manifest.peerDependenciesMeta?.[peer]?.optional, peer).toBe(true);
  });

  it('asks for the jose the repository is tested with', () => {
    const root = JSON.parse(readFileSync(join(sdkDir, '../../package.json'), 'utf8')) as PackageJson;
    expect(manifest.dependencies?.jose).toBe(root.dependencies?.jose);
  });
});
