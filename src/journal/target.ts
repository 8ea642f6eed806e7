/**
 * `canary rollback` with no plan: which route to restore, to which tag, on which relay — all
 * from the journal's run headers (which hold the relay URL and the key's env var / file name,
 * never the key).
 */

import { UsageError } from '../errors.js';
import { formatTimestamp } from '../format.js';
import { readStateDir } from './reader.js';
import type { RunHeader } from './records.js';
import { lastRollout, type RunSummary } from './run-summary.js';

export interface RollbackTarget {
  route: string;
  baseline: string;
  header: RunHeader;
  run: RunSummary;
}

function describe(run: RunSummary): string {
  const state = run.outcome === null ? 'unfinished' : run.outcome;
  const when = formatTimestamp(run.startedAt);
  return `${run.route} (${state}, started ${when}, baseline ${run.header.baseline ?? '?'})`;
}

/** Asks which of several candidates is meant; resolves to the chosen `value`. */
export type ChooseRoute = (choices: { name: string; value: number }[]) => Promise<number>;

/**
 * Candidates: with `route`, that route's last rollout. Otherwise the unfinished rollouts if
 * there are any, else the last rollout of each route. One candidate is the answer; several
 * are asked about through `choose` (a prompt, when someone can answer one) and refused without.
 */
export async function findRollbackTarget(opts: {
  stateDir: string;
  route?: string | undefined;
  choose?: ChooseRoute | undefined;
}): Promise<RollbackTarget> {
  const journals = readStateDir(opts.stateDir);
  const routes = journals.filter((j) => opts.route === undefined || j.route === opts.route);
  const latest = routes
    .map((j) => lastRollout(j.runs))
    .filter((r): r is RunSummary => r !== undefined && r.header.baseline !== undefined);
  // A rollout counts as unfinished only while nothing came after it: a later manual rollback
  // (or any later run) has already dealt with the route.
  const isOpen = (r: RunSummary) =>
    r.outcome === null && routes.some((j) => j.runs[j.runs.length - 1]?.run === r.run);
  if (latest.length === 0) {
    const where = opts.route ? `for route ${opts.route} ` : '';
    throw new UsageError(
      `no rollout ${where}recorded in ${opts.stateDir}, so there is nothing to roll back by default.`,
      {
        hint: 'canary rollback plan.yaml   or   canary rollback --route <route> --to <baseline tag>   (or --state-dir where the journal is)',
      },
    );
  }
  const unfinished = latest.filter(isOpen);
  const candidates = unfinished.length > 0 ? unfinished : latest;
  let chosen = candidates[0] as RunSummary;
  if (candidates.length > 1) {
    const list = candidates.map((r) => `  ${describe(r)}`).join('\n');
    if (opts.choose === undefined) {
      throw new UsageError(`${candidates.length} routes could be meant; nothing was changed:\n${list}`, {
        hint: 'name one with --route <route>.',
      });
    }
    const index = await opts.choose(candidates.map((r, value) => ({ name: describe(r), value })));
    chosen = candidates[index] as RunSummary;
  }
  return {
    route: chosen.route,
    baseline: chosen.header.baseline as string,
    header: chosen.header,
    run: chosen,
  };
}
