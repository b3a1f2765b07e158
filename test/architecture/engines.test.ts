import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * `engines` is a promise to whoever installs Gatehouse: every Node.js version it admits must be one
 * every runtime dependency admits too. Checked against the installed tree (npm's hidden lockfile in
 * node_modules, which `npm ci` writes from package-lock.json), dev-only packages aside.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const ours = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { engines: { node: string } }).engines.node;

interface LockEntry {
  version?: string;
  dev?: boolean;
  engines?: { node?: string } | string[];
}
const installed = (JSON.parse(readFileSync(`${root}node_modules/.package-lock.json`, 'utf8')) as { packages: Record<string, LockEntry> }).packages;

/**
 * The first version of each Node.js release line published by the time of writing (Node 26, April
 * 2026) that our range admits: the versions a user may rightly run Gatehouse on.
 */
const LINES = [18, 19, 20, 21, 22, 23, 24, 25, 26];
const admitted = LINES.flatMap((major) => {
  // Each `||` alternative of our range, narrowed to the line; the lowest version any of them admits.
  const lows = new semver.Range(ours).set
    .map((comparators) => semver.minVersion(`${comparators.map((c) => c.value).join(' ')} >=${major}.0.0 <${major + 1}.0.0`))
    .filter((low): low is semver.SemVer => low !== null && semver.satisfies(low, ours));
  return lows.length > 0 ? [semver.sort(lows)[0]!.version] : [];
});

describe('engines', () => {
  it('our range admits Node 20 (what the machines here run), 22 and 24', () => {
    expect(semver.validRange(ours)).not.toBeNull();
    expect(admitted).toEqual([...new Set(admitted)]);
    for (const major of [20, 22, 24]) expect(admitted.some((v) => semver.major(v) === major), `${major}.x`).toBe(true);
  });

  it('every runtime dependency admits every Node.js version our engines range admits', () => {
    const refusals: string[] = [];
    for (const [path, entry] of Object.entries(installed)) {
      if (path === '' || entry.dev) continue;
      const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (node === undefined) continue;
      const refused = admitted.filter((version) => !semver.satisfies(version, node));
      if (refused.length > 0) refusals.push(`${path.replace(/^.*node_modules\//, '')}@${entry.version} wants node ${node}, not ${refused.join(', ')}`);
    }
    expect(refusals, `engines.node is "${ours}"`).toEqual([]);
  });
});
