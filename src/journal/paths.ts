/**
 * Where journals, locks and control sockets live: the state folder. Apart from the journal's
 * writer (journal.ts) and reader (reader.ts) so that `canary rollback`, which only asks whether
 * a route has a journal, initialises the rest of the journal only when it has one to write to.
 *
 * One rule for every command (rollout, rollback, history, status and the control commands),
 * so that whatever one of them writes, the others find from the same folder:
 *   1. `--state-dir DIR`;
 *   2. `$CANARY_STATE_DIR`;
 *   3. the nearest existing `.canary/` walking up from the current folder, like git finds
 *      `.git/` (the walk stops below the home folder, where people keep key files in a
 *      `~/.canary/` that is not a state folder);
 *   4. with a plan: `.canary/` in the current folder when the plan lies inside it (a repo's
 *      `deploy/canary.yaml` run from the repo root), else `.canary/` next to the plan;
 *      without a plan: `.canary/` in the current folder.
 */
import { statSync } from 'node:fs';
import path from 'node:path';

export const DEFAULT_STATE_DIR = '.canary';
export const STATE_DIR_ENV = 'CANARY_STATE_DIR';
export const JOURNAL_SUFFIX = '.journal.ndjson';

/** Route ids are free text on the wire; file names are not. */
export function safeRouteName(route: string): string {
  return route.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function journalFileName(route: string): string {
  return `${safeRouteName(route)}${JOURNAL_SUFFIX}`;
}

export function journalPath(stateDir: string, route: string): string {
  return path.join(stateDir, journalFileName(route));
}

/** Which step of the rule chose the folder, in words for the rollout's first and last lines. */
export type StateDirSource = 'flag' | 'env' | 'found' | 'cwd' | 'plan';

export interface StateDirChoice {
  dir: string;
  source: StateDirSource;
}

export interface StateDirOptions {
  flag?: string | undefined;
  env: Record<string, string | undefined>;
  cwd: string;
  planFile?: string | undefined;
}

function isDir(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
}

/** The nearest `.canary/` at or above `from`, stopping below the home folder and the root. */
export function findStateDirUpwards(from: string, home: string | undefined): string | undefined {
  const stop = home ? path.resolve(home) : undefined;
  let dir = path.resolve(from);
  for (;;) {
    if (dir === stop) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined; // the filesystem root: never a project's state folder
    const candidate = path.join(dir, DEFAULT_STATE_DIR);
    if (isDir(candidate)) return candidate;
    dir = parent;
  }
}

/** The state folder and why (see the file comment for the rule). */
export function chooseStateDir(opts: StateDirOptions): StateDirChoice {
  if (opts.flag) return { dir: path.resolve(opts.cwd, opts.flag), source: 'flag' };
  const fromEnv = opts.env[STATE_DIR_ENV];
  if (fromEnv) return { dir: path.resolve(opts.cwd, fromEnv), source: 'env' };
  const found = findStateDirUpwards(opts.cwd, opts.env.HOME ?? opts.env.USERPROFILE);
  if (found) return { dir: found, source: 'found' };
  const cwd = path.resolve(opts.cwd);
  if (opts.planFile) {
    const planDir = path.dirname(path.resolve(cwd, opts.planFile));
    const inside = path.relative(cwd, planDir);
    if (inside.startsWith('..') || path.isAbsolute(inside)) {
      return { dir: path.join(planDir, DEFAULT_STATE_DIR), source: 'plan' };
    }
  }
  return { dir: path.join(cwd, DEFAULT_STATE_DIR), source: 'cwd' };
}

/** The state folder alone; see `chooseStateDir`. */
export function resolveStateDir(opts: StateDirOptions): string {
  return chooseStateDir(opts).dir;
}

/** `state folder /x/.canary (nearest .canary/ above the current folder)`, for a rollout's first and last lines. */
export function describeStateDir(choice: StateDirChoice): string {
  const why: Record<StateDirSource, string> = {
    flag: '--state-dir',
    env: `$${STATE_DIR_ENV}`,
    found: 'the nearest .canary/ from the current folder',
    cwd: 'new .canary/ in the current folder',
    plan: 'next to the plan, which is outside the current folder',
  };
  return `state folder ${choice.dir} (${why[choice.source]})`;
}
