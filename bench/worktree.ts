import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The baseline side of `--baseline <ref>`: a git worktree of that commit
 * under /tmp (detached, made once, reused by later runs), with this
 * checkout's node_modules hard-link-copied in (`cp -al`: no download, no
 * install; the workspace links in node_modules/@domaeka are relative, so
 * they resolve inside the worktree, to the baseline's own sources).
 */

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The commit a ref names (a branch, tag, `HEAD~1`, a sha). */
export function resolveCommit(repo: string, ref: string): string {
  try {
    return git(repo, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
  } catch {
    throw new Error(`--baseline: "${ref}" names no commit of this repository`);
  }
}

/** The worktree of `commit` (made, or reused when it is already there at that commit), node_modules in place. */
export function baselineTree(repo: string, commit: string, say: (msg: string) => void): string {
  const dir = `/tmp/domaeka-bench-base-${commit.slice(0, 12)}`;
  let head: string | null = null;
  if (existsSync(dir)) {
    try {
      head = git(dir, 'rev-parse', 'HEAD');
    } catch {
      head = null;
    }
  }
  if (head !== commit) {
    if (existsSync(dir)) {
      // Ours (the name says so), left half-made or moved: made again.
      say(`baseline: ${dir} is not a worktree at ${commit.slice(0, 12)}: making it again`);
      rmSync(dir, { recursive: true, force: true });
    }
    git(repo, 'worktree', 'prune');
    say(`baseline: git worktree add --detach ${dir} ${commit.slice(0, 12)}`);
    git(repo, 'worktree', 'add', '--detach', dir, commit);
  } else {
    say(`baseline: reusing the worktree ${dir}`);
  }
  linkNodeModules(repo, dir, say);
  return dir;
}

/** Root and workspace node_modules of this checkout, hard-linked into the worktree where it has none yet. */
function linkNodeModules(repo: string, dir: string, say: (msg: string) => void): void {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { workspaces?: string[] };
  for (const ws of ['.', ...(pkg.workspaces ?? [])]) {
    const from = join(repo, ws, 'node_modules');
    const to = join(dir, ws, 'node_modules');
    if (!existsSync(from) || existsSync(to) || !existsSync(join(dir, ws))) continue;
    say(`baseline: cp -al ${from} -> ${to}`);
    // Copied beside, then renamed: an interrupted copy is never taken for a whole one on the next run.
    const tmp = `${to}.partial-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    execFileSync('cp', ['-al', from, tmp]);
    renameSync(tmp, to);
  }
}

/**
 * The sandbox image version a tree's runner wants (its build.sh
 * --print-version): the tag a comparison pins that side's runner to, so
 * neither side rebuilds `domaeka-sandbox:latest` under the other.
 */
export function sandboxImageVersion(tree: string): string | null {
  const script = join(tree, 'sandbox-image/build.sh');
  if (!existsSync(script)) return null;
  try {
    return execFileSync('bash', [script, '--print-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return null;
  }
}
