/**
 * The pre-flight, before any weight moves: the relay answers, both versions are registered
 * (or registered now from the plan), the route exists (or is created at the baseline), and it
 * stands where the run may start. Anything else stops here with nothing changed.
 */

import type { StagePlan } from '../domain/plan.js';
import type { Route } from '../domain/relay.js';
import { CanaryError, ExitCode, RelayError } from '../errors.js';
import { formatRules, formatWeight } from '../format.js';
import { sameWeights } from '../relay/compare.js';
import { preflightDeadlineMs } from './deadlines.js';
import type { RolloutRun } from './run.js';
import { planRef } from './summaries.js';

type Step = (name: string, detail: string) => void;
type Call = { signal: AbortSignal | undefined; deadlineMs: number };

export async function preflight(run: RolloutRun, startIndex: number): Promise<void> {
  const step: Step = (name, detail) =>
    run.emit({ type: 'preflight', at: run.clock.now(), step: name, detail });
  const call: Call = { signal: run.signal, deadlineMs: preflightDeadlineMs(run.plan.analysis.intervalMs) };

  await run.deps.relay.health(call);
  step('relay', `relay reachable${run.deps.relayUrl ? ` at ${run.deps.relayUrl}` : ''}`);
  await checkVersions(run, call, step);
  const route = await findOrCreateRoute(run, call, step);
  run.reached = startingStage(run, route, startIndex);
  run.confirmed = { rules: route.route_rules, revision: route.revision };
  step('start', `starting from ${run.describeTraffic(route.route_rules)}`);
}

/** Registers each version the plan describes; one it only names must be on the relay already. */
async function checkVersions(run: RolloutRun, call: Call, step: Step): Promise<void> {
  const { relay } = run.deps;
  const { plan } = run;
  for (const [role, ref] of [
    ['baseline', plan.baseline],
    ['canary', plan.canary],
  ] as const) {
    if (ref.spec) {
      const { created } = await relay.registerVersion(ref.spec, call);
      step(
        'version',
        created
          ? `registered ${role} ${ref.tag}`
          : `${role} ${ref.tag} already registered with the same configuration`,
      );
      continue;
    }
    try {
      await relay.getVersion(ref.tag, call);
    } catch (error) {
      if (error instanceof RelayError && error.status === 404) {
        throw new CanaryError(
          `${role} version ${ref.tag} is not registered on the relay, and the plan gives no model to register it with.`,
          ExitCode.BadInput,
          {
            hint: `add \`model:\` (and its settings) under ${role}: in the plan, or register ${ref.tag} first.`,
          },
        );
      }
      throw error;
    }
    step('version', `${role} ${ref.tag} is registered`);
  }
}

async function findOrCreateRoute(run: RolloutRun, call: Call, step: Step): Promise<Route> {
  const { relay } = run.deps;
  const { plan } = run;
  try {
    const route = await relay.getRoute(plan.route, call);
    step('route', `route ${plan.route} found: ${formatRules(route.route_rules)}`);
    return route;
  } catch (error) {
    if (!(error instanceof RelayError && error.status === 404)) throw error;
  }
  const route = await relay.createRoute(
    {
      model_alias: plan.route,
      route_rules: [
        { version_tag: plan.baseline.tag, weight: 100 },
        { version_tag: plan.canary.tag, weight: 0 },
      ],
      ...plan.routeDefaults,
    },
    call,
  );
  step('route', `route ${plan.route} created with ${plan.baseline.tag} at 100%`);
  return route;
}

/**
 * The stage the route stands at, from where this run may start: the baseline (null) on a fresh
 * start, or the stage before `startStage` or `startStage` itself on a resume. Else exit 2.
 */
function startingStage(run: RolloutRun, route: Route, startIndex: number): number | null {
  const { plan, options } = run;
  const acceptable: { weight: number; stage: number | null }[] = [];
  if (options.startStage === undefined || startIndex === 0) acceptable.push({ weight: 0, stage: null });
  if (options.startStage !== undefined) {
    if (startIndex > 0)
      acceptable.push({ weight: (plan.stages[startIndex - 1] as StagePlan).weight, stage: startIndex - 1 });
    acceptable.push({ weight: (plan.stages[startIndex] as StagePlan).weight, stage: startIndex });
  }
  const match = acceptable.find((a) =>
    sameWeights(route.route_rules, run.stageRules(route.route_rules, a.weight)),
  );
  if (match) return match.stage;
  const expected = acceptable
    .map((a) =>
      a.stage === null
        ? `baseline ${plan.baseline.tag} 100%`
        : `${run.stageLabel(a.stage)}: canary ${formatWeight(a.weight)}`,
    )
    .join(' or ');
  throw new CanaryError(
    `route ${plan.route} is at ${formatRules(route.route_rules)}, not the plan's starting point (${expected}). ` +
      'Resuming a rollout mid-way is not supported yet, so nothing was changed.',
    ExitCode.BadInput,
    {
      hint: `restore the baseline with \`canary rollback ${planRef(plan, run.deps.planRef)}\`, then run the plan again.`,
    },
  );
}
