/**
 * Picking up an interrupted rollout: the route's weights say where traffic is, the journal
 * says which run left it there. The weights decide (they are the truth on the relay); the
 * journal only explains.
 */

import type { Plan } from '../domain/plan.js';
import type { RouteRule } from '../domain/relay.js';
import { formatTimestamp, formatWeight, weightOf } from '../format.js';
import { lastRollout, type RunSummary } from './run-summary.js';

const TOLERANCE = 0.001;

/**
 * The 0-based stage whose weights the route holds exactly (canary w, baseline 100 − w, every
 * other tag at 0), or null when it is at the baseline or anywhere else.
 */
export function stageOfRoute(plan: Plan, rules: RouteRule[]): number | null {
  const others = rules.filter(
    (r) => r.version_tag !== plan.baseline.tag && r.version_tag !== plan.canary.tag,
  );
  if (others.some((r) => Math.abs(r.weight) > TOLERANCE)) return null;
  const canary = weightOf(rules, plan.canary.tag);
  const baseline = weightOf(rules, plan.baseline.tag);
  if (Math.abs(canary + baseline - 100) > TOLERANCE) return null;
  for (let i = plan.stages.length - 1; i >= 0; i--) {
    const stage = plan.stages[i];
    if (stage && Math.abs(stage.weight - canary) <= TOLERANCE) return i;
  }
  return null;
}

export interface ResumeInfo {
  /** 0-based stage to resume at. */
  stage: number;
  /** The run that left the route there, when the journal knows it. */
  previous?: RunSummary | undefined;
  /** One line for the user: where the route is and what the journal says about it. */
  description: string;
}

/**
 * Only a run that set this route's weights on this relay can have left it where it is: not one
 * that stopped before its first stage, nor one on another relay or an in-process emulator.
 */
function touchedRoute(run: RunSummary, relay: string | undefined): boolean {
  if (run.header.inProcessEmulator) return false;
  if (relay !== undefined && run.header.relay !== relay) return false;
  return run.stage !== null || run.rules !== null;
}

export function describeResume(
  plan: Plan,
  stage: number,
  runs: RunSummary[],
  relay?: string | undefined,
): ResumeInfo {
  const previous = lastRollout(runs.filter((r) => touchedRoute(r, relay)));
  const where = `route ${plan.route} is at stage ${stage + 1}/${plan.stages.length} (canary ${plan.canary.tag} ${formatWeight(plan.stages[stage]?.weight)})`;
  let story = 'the journal has no run that explains it';
  if (previous) {
    const when = formatTimestamp(previous.startedAt);
    const samePlan = previous.header.planHash === plan.hash ? '' : ' (with a different version of the plan)';
    story =
      previous.outcome === null
        ? `run ${previous.run} (pid ${previous.header.pid} on ${previous.header.host}, started ${when})${samePlan} was interrupted there`
        : `the last run, ${previous.run}${samePlan}, ended ${previous.outcome}`;
  }
  return { stage, previous, description: `${where}; ${story}` };
}
