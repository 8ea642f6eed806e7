/** A plan, a fake relay and a fake clock wired to the engine, for the engine's tests. */
import { expect } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import type { AnalysisConfig, Plan, StagePlan } from '../../src/domain/plan.js';
import { type RolloutDeps, type RolloutOptions, runRollout } from '../../src/rollout/engine.js';
import type { RolloutEvent, RolloutEventType } from '../../src/rollout/events.js';
import { FakeRelay } from '../helpers/index.js';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const ROUTE = 'code-review-production';
export const BASE = 'claude-v1';
export const CANARY = 'claude-v2';

export interface PlanOptions {
  stages?: { weight: number; bakeMs?: number; pause?: boolean; dataDeadlineMs?: number }[];
  analysis?: Partial<AnalysisConfig>;
  rollbackDeadlineMs?: number;
}

export function makePlan(opts: PlanOptions = {}): Plan {
  const stages: StagePlan[] = (
    opts.stages ?? [{ weight: 5 }, { weight: 25 }, { weight: 50 }, { weight: 100 }]
  ).map((s, index) => {
    const bakeMs = s.bakeMs ?? 10 * MIN;
    return {
      index,
      weight: s.weight,
      bakeMs,
      pause: s.pause ?? false,
      dataDeadlineMs: s.dataDeadlineMs ?? 2 * bakeMs,
    };
  });
  return {
    file: '/plans/plan.yaml',
    hash: 'x',
    relay: { url: 'http://127.0.0.1:8787/v1', apiKeyEnv: 'RELAY_API_KEY' },
    route: ROUTE,
    baseline: {
      tag: BASE,
      spec: { version_tag: BASE, model: 'anthropic/claude', parameters: { temperature: 0.7 } },
    },
    canary: {
      tag: CANARY,
      spec: { version_tag: CANARY, model: 'anthropic/claude', parameters: { temperature: 0.5 } },
    },
    stages,
    analysis: {
      intervalMs: 30_000,
      windowMs: 5 * MIN,
      minRequests: 200,
      failureLimit: 2,
      holdDeadlineMs: 30 * MIN,
      dataDeadlineFactor: 2,
      maxMetricErrors: 3,
      onMetricErrors: 'rollback',
      thresholds: {
        error_rate: { max: 0.02 },
        latency_p99_ms: { max: 2500 },
        latency_p50_ms: { max: 800 },
        cost_per_token: { max: 0.00002 },
      },
      baselineComparison: {
        error_rate: { max_increase: 0.01 },
        latency_p99_ms: { max_ratio: 1.25 },
        cost_per_token: { max_ratio: 1.1 },
      },
      ...opts.analysis,
    },
    routeDefaults: {},
    rollback: { deadlineMs: opts.rollbackDeadlineMs ?? 60_000 },
  };
}

export function harness(opts: PlanOptions = {}) {
  const clock = new FakeClock();
  const relay = new FakeRelay(clock);
  const plan = makePlan(opts);
  const events: RolloutEvent[] = [];
  const startedAt = clock.now();
  const run = (deps: Partial<RolloutDeps> = {}, options?: RolloutOptions) =>
    runRollout(
      plan,
      {
        clock,
        relay,
        emit: (e) => events.push(e),
        relayUrl: 'http://127.0.0.1:8787/v1',
        planRef: 'plan.yaml',
        ...deps,
      },
      options,
    );
  const of = <T extends RolloutEventType>(type: T) =>
    events.filter((e): e is Extract<RolloutEvent, { type: T }> => e.type === type);
  return { clock, relay, plan, events, run, of, startedAt, elapsed: () => clock.now() - startedAt };
}

/**
 * Invariant 1: the canary never holds more weight than the stage the plan has reached.
 * Every PATCH this run sent either enters the next stage in order or rolls back to 0.
 */
export function expectWeightsFollowThePlan(h: ReturnType<typeof harness>): void {
  const weights = h.relay.patches.map((p) => p.rules?.find((r) => r.version_tag === CANARY)?.weight ?? 0);
  const planWeights = h.plan.stages.map((s) => s.weight);
  let reached = -1;
  let rolledBack = false;
  for (const w of weights) {
    if (w === 0) {
      rolledBack = true;
      continue;
    }
    expect(rolledBack, `a PATCH raised the canary to ${w} % after a rollback`).toBe(false);
    const next = planWeights.indexOf(w);
    expect(next, `canary weight ${w} % is not a plan stage`).toBeGreaterThan(reached);
    expect(next, `canary jumped from stage ${reached + 1} to stage ${next + 1}`).toBeLessThanOrEqual(
      reached + 1,
    );
    reached = next;
    const entered = h.of('stage_started').map((e) => e.weight);
    expect(entered).toContain(w);
  }
}
