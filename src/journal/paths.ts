/**
 * Where journals live. Apart from src/journal/journal.ts (the writer and reader) so that
 * `canary rollback`, which only asks whether a route has a journal, initialises the rest of
 * the journal only when it has one to write to.
 */
import path from 'node:path';

export const DEFAULT_STATE_DIR = '.canary';
export const STATE_DIR_ENV = 'CANARY_STATE_DIR';
export const JOURNAL_SUFFIX = '.journal.ndjson';

/** Route ids are free text on the wire; file names are not. */
export function journalFileName(route: string): string {
  return `${route.replace(/[^A-Za-z0-9._-]/g, '_')}${JOURNAL_SUFFIX}`;
}

export function journalPath(stateDir: string, route: string): string {
  return path.join(stateDir, journalFileName(route));
}

/** `--state-dir`, else $CANARY_STATE_DIR, else `.canary` next to the plan (or in the cwd). */
export function resolveStateDir(opts: {
  flag?: string | undefined;
  env: Record<string, string | undefined>;
  cwd: string;
  planFile?: string | undefined;
}): string {
  const explicit = opts.flag ?? (opts.env[STATE_DIR_ENV] || undefined);
  if (explicit) return path.resolve(opts.cwd, explicit);
  return path.join(opts.planFile ? path.dirname(opts.planFile) : opts.cwd, DEFAULT_STATE_DIR);
}
