/**
 * Before anything moves, the route itself says where a rollout starts (src/commands/rollout.ts
 * asks here once connected): a normal start, a stage to resume, already promoted, or refused.
 */

import type { Plan } from '../domain/plan.js';
import type { RelayPort } from '../domain/relay.js';
import { ExitCode, UsageError } from '../errors.js';
import { formatRules, formatWeight } from '../format.js';
import type { Io } from '../io.js';
import { journalPath } from '../journal/paths.js';
import { readJournal } from '../journal/reader.js';
import { stageOfRoute } from '../journal/resume.js';
import { lastRollout, summarizeRuns } from '../journal/run-summary.js';

/**
/**
/**
 * Before anything moves, the route itself (not a local file: the next pipeline job may run on
 * another machine) says where to start. Baseline at 100 % or no route: a normal start. A plan
 * stage's weights: the journal session offers to continue from there. Canary at 100 %: already
 * promoted, nothing to do (exit 0). Anything else: refuse (exit 2), saying what was found.
 */
export async function checkRouteBeforeStart(
  plan: Plan,
  relay: RelayPort,
  io: Io,
  stateDir: string,
): Promise<number | undefined> {
  let rules: { version_tag: string; weight: number }[];
  try {
    rules = (await relay.getRoute(plan.route)).route_rules;
  } catch {
    return undefined; // no route yet, or the relay is unreadable: the engine's pre-flight says which
  }
  const weight = (tag: string) => rules.find((r) => r.version_tag === tag)?.weight ?? 0;
  const near = (a: number, b: number) => Math.abs(a - b) <= 0.001;
  const others = rules.filter(
    (r) => r.version_tag !== plan.baseline.tag && r.version_tag !== plan.canary.tag && !near(r.weight, 0),
  );
  const canary = weight(plan.canary.tag);
  const baseline = weight(plan.baseline.tag);
  if (others.length === 0 && near(baseline, 100)) return undefined;
  if (others.length === 0 && near(canary, 100)) {
    // A run that died right after its last PATCH (kill -9) left the last stage unjudged and its
    // journal open: that is a stage to resume (its bake and checks run again), not a promotion.
    if (stageOfRoute(plan, rules) !== null && lastRunUnfinished(stateDir, plan.route)) return undefined;
    io.stderr.write(
      `route ${plan.route} already sends 100% to the canary ${plan.canary.tag}: already promoted, nothing to do.\n`,
    );
    return ExitCode.Ok;
  }
  // At one of the plan's stages: the journal session offers to resume there.
  if (stageOfRoute(plan, rules) !== null) return undefined;
  const stages = plan.stages.map((s) => formatWeight(s.weight)).join(', ');
  throw new UsageError(
    `route ${plan.route} is at ${formatRules(rules)}, which is not a stage of this plan (canary ${plan.canary.tag} at ${stages} with baseline ${plan.baseline.tag} at the rest); nothing was changed.`,
    {
      hint: `run \`canary rollback ${plan.file}\` to restore the baseline, then run the plan again; or set the weights of one of the plan's stages and run it to continue from there.`,
    },
  );
}

/** Whether the route's journal ends in a rollout that never recorded an outcome. */
function lastRunUnfinished(stateDir: string, route: string): boolean {
  const last = lastRollout(summarizeRuns(readJournal(journalPath(stateDir, route))));
  return last !== undefined && last.outcome === null;
}
