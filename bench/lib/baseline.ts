import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

/**
 * Gatehouse as it was at a git revision (`--baseline REV`): a temporary detached worktree of REV with
 * the current checkout's bench/ copied over it and node_modules linked to the current one, so its
 * servers and workers run the same harness with REV's src/ and packages/. Start them with
 * cwd = {@link Baseline.dir}.
 */
export interface Baseline {
  /** The revision as given, e.g. `HEAD~3`. */
  rev: string;
  /** Its abbreviated commit hash, e.g. `8cadecc`. */
  short: string;
  commit: string;
  /** The worktree's folder. */
  dir: string;
  /** `npm run build` in the worktree (once), for what runs dist/ (cold start); throws when the build fails. */
  ensureBuilt(log: (message: string) => void): void;
  /** Removes the worktree (`git worktree remove --force`, then `git worktree prune`); safe to call twice. */
  remove(): void;
}

/** A twin's label: `Gatehouse (SQLite) @ 8cadecc`. */
export function baselineLabel(label: string, baseline: Baseline): string {
  return `${label} @ ${baseline.short}`;
}

/** The first line of an error, and the first line of its rest that names an error (e.g. a child's stderr). */
export function errorSummary(error: unknown): string {
  const lines = (error instanceof Error ? error.message : String(error)).split('\n').map((line) => line.trim());
  const cause = lines.slice(1).find((line) => /\b\w*Error\b|error:/i.test(line));
  return cause ? `${lines[0]} — ${cause}` : (lines[0] ?? '');
}

const git = (args: string[]): string => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * Creates the baseline worktree of `rev` from the repository in the current directory, and arranges
 * for its removal when the process exits (also on SIGINT/SIGTERM).
 */
export function createBaseline(rev: string, log: (message: string) => void): Baseline {
  const root = process.cwd();
  let commit: string;
  try {
    commit = git(['rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`]);
  } catch {
    throw new TypeError(`--baseline ${rev} is not a commit of this repository`);
  }
  const short = git(['rev-parse', '--short', commit]);
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-bench-baseline-${short}-`));
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    try {
      git(['worktree', 'remove', '--force', dir]);
    } catch {
      // Not (or no longer) a worktree: the folder goes below, the record with prune.
    }
    rmSync(dir, { recursive: true, force: true });
    try {
      git(['worktree', 'prune']);
    } catch {
      // nothing to prune
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`bench: ${signal}: removing the baseline worktree ${dir}`);
    remove();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', remove);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`baseline ${rev} (${short}): git worktree add --detach ${dir}`);
    git(['worktree', 'add', '--detach', dir, commit]);
    // The same harness and servers as the current checkout, with REV's src/ and packages/.
    rmSync(join(dir, 'bench'), { recursive: true, force: true });
    const results = resolve(root, 'bench/results');
    cpSync(resolve(root, 'bench'), join(dir, 'bench'), { recursive: true, filter: (source) => relative(results, source).startsWith('..') });
    linkNodeModules(root, dir);
  } catch (error) {
    remove();
    throw error;
  }
  let built = false;
  return {
    rev,
    short,
    commit,
    dir,
    ensureBuilt(logBuild) {
      if (built) return;
      logBuild(`  baseline ${short}: npm run build`);
      try {
        execFileSync('npm', ['run', 'build'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        const output = error as { stdout?: string; stderr?: string };
        throw new Error(`npm run build failed in the baseline ${short}\n${output.stdout ?? ''}${output.stderr ?? ''}`);
      }
      built = true;
    },
    remove,
  };
}

/** node_modules (and packages/NAME/node_modules where the current checkout has one) as links to the current checkout's. */
function linkNodeModules(root: string, dir: string): void {
  symlinkSync(resolve(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const packages = resolve(root, 'packages');
  if (!existsSync(packages)) return;
  for (const entry of readdirSync(packages, { withFileTypes: true })) {
    const modules = join(packages, entry.name, 'node_modules');
    const into = join(dir, 'packages', entry.name);
    if (entry.isDirectory() && existsSync(modules) && existsSync(into) && !existsSync(join(into, 'node_modules'))) symlinkSync(modules, join(into, 'node_modules'), 'dir');
  }
}
