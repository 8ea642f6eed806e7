/**
 * `canary __routes` (hidden): the route ids the state folder's journals know, one a line, for
 * shell completion of `--route`. Reads only the journals' run headers; prints nothing on error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Io } from '../io.js';
import { chooseStateDir, JOURNAL_SUFFIX } from '../journal/paths.js';

/** The route of the last run header in each journal of `stateDir`. */
export function journalRoutes(stateDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch {
    return [];
  }
  const routes = new Set<string>();
  for (const name of names.sort()) {
    if (!name.endsWith(JOURNAL_SUFFIX)) continue;
    let text: string;
    try {
      text = readFileSync(path.join(stateDir, name), 'utf8');
    } catch {
      continue;
    }
    const start = text.lastIndexOf('"type":"run_started"');
    const line = start < 0 ? '' : text.slice(text.lastIndexOf('\n', start) + 1, text.indexOf('\n', start));
    try {
      const route = (JSON.parse(line) as { route?: unknown }).route;
      if (typeof route === 'string') routes.add(route);
    } catch {
      // A torn header: the next run's will do.
    }
  }
  return [...routes];
}

export async function runListRoutes(opts: { stateDir?: string | undefined }, io: Io): Promise<number> {
  const { dir } = chooseStateDir({ flag: opts.stateDir, env: io.env, cwd: io.cwd });
  for (const route of journalRoutes(dir)) io.stdout.write(`${route}\n`);
  return 0;
}
