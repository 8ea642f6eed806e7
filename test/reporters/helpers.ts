/**
 * Realistic event sequences (as the core would emit them) and a collecting stream, shared by the
 * reporter tests.
 */
import type { CheckResult, Evaluation } from '../../src/analysis/types.js';
import type { RouteRule, VersionMetrics } from '../../src/domain/relay.js';
import type { OutStream } from '../../src/io.js';
import type { RolloutEvent } from '../../src/rollout/events.js';

export const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
export const ROUTE = 'code-review-production';
export const BASE = 'claude-sonnet-4-5-v1';
export const CAN = 'claude-sonnet-4-5-v2';
const MIN = 60_000;

export class CollectingStream implements OutStream {
  readonly chunks: string[] = [];
  constructor(
    public isTTY = false,
    public columns: number | undefined = undefined,
    public rows: number | undefined = undefined,
  ) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
}

export const ESC = String.fromCharCode(27);
/** Any CSI sequence: colour, cursor movement, erase. */
export const ANSI = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`);
/** SGR (colour/style) sequences only. */
export const ANSI_COLOR = new RegExp(`${ESC}\\[[0-9;]*m`);
export const stripColor = (text: string) => text.replace(new RegExp(ANSI_COLOR.source, 'g'), '');

function rules(canaryWeight: number): RouteRule[] {
  return [
    { version_tag: BASE, weight: 100 - canaryWeight },
    { version_tag: CAN, weight: canaryWeight },
  ];
}

function metrics(tag: string, at: number, m: Partial<VersionMetrics>): VersionMetrics {
  return {
    version_tag: tag,
    start_time: new Date(at - 5 * MIN).toISOString(),
    end_time: new Date(at).toISOString(),
    request_count: 1834,
    error_count: 8,
    error_rate: 0.0041,
    latency_p50_ms: 410,
    latency_p99_ms: 1820,
    cost_per_token: 0.0000148,
    ...m,
  };
}

function healthyChecks(canary: VersionMetrics): CheckResult[] {
  return [
    {
      id: 'error_rate.max',
      metric: 'error_rate',
      kind: 'threshold',
      status: 'pass',
      value: canary.error_rate,
      bound: 0.02,
      reason: 'error_rate 0.41% is within max 2.00%',
    },
    {
      id: 'latency_p99_ms.max',
      metric: 'latency_p99_ms',
      kind: 'threshold',
      status: 'pass',
      value: canary.latency_p99_ms,
      bound: 2500,
      reason: 'p99 1820ms is within max 2500ms',
    },
  ];
}

function evaluation(
  at: number,
  canary: VersionMetrics,
  baseline: VersionMetrics,
  checks: CheckResult[],
): Evaluation {
  const verdict = checks.some((c) => c.status === 'fail')
    ? 'fail'
    : checks.some((c) => c.status === 'no_data')
      ? 'no_data'
      : 'pass';
  return {
    at,
    windowStart: at - 5 * MIN,
    windowEnd: at,
    canary,
    baseline,
    canaryRequests: canary.request_count,
    minRequests: 200,
    checks,
    verdict,
  };
}

function started(stages: number[]): RolloutEvent {
  return {
    type: 'rollout_started',
    at: T0,
    route: ROUTE,
    baseline: BASE,
    canary: CAN,
    stages: stages.map((weight) => ({ weight, bakeMs: 60 * MIN, pause: false })),
    relay: 'http://127.0.0.1:8080/v1',
    metricsSource: 'relay',
    startStage: 0,
  };
}

function stage(i: number, weight: number, at: number, count: number): RolloutEvent[] {
  return [
    {
      type: 'stage_started',
      at,
      stage: i,
      stageCount: count,
      weight,
      bakeMs: 60 * MIN,
      pause: false,
      rules: rules(weight),
    },
    { type: 'weights_set', at: at + 200, stage: i, rules: rules(weight), revision: 10 + i },
  ];
}

/** Four stages, every check passing, promoted. */
export function promotedRun(): RolloutEvent[] {
  const events: RolloutEvent[] = [started([5, 25, 50, 100])];
  events.push({ type: 'preflight', at: T0 + 100, step: 'relay', detail: 'reachable, versions registered' });
  const weights = [5, 25, 50, 100];
  let at = T0 + 1000;
  weights.forEach((w, i) => {
    events.push(...stage(i, w, at, weights.length));
    for (let k = 1; k <= 2; k++) {
      const t = at + k * 30 * MIN;
      const canary = metrics(CAN, t, {});
      const baseline = metrics(BASE, t, { error_rate: 0.0038, latency_p99_ms: 1790 });
      events.push({
        type: 'evaluation',
        at: t,
        stage: i,
        evaluation: evaluation(t, canary, baseline, healthyChecks(canary)),
        consecutiveFailures: 0,
        failureLimit: 2,
        bakeElapsedMs: k * 30 * MIN,
        bakeMs: 60 * MIN,
        nextCheckAt: t + 30_000,
      });
    }
    at += 60 * MIN + 1000;
    if (w < 100) events.push({ type: 'stage_passed', at: at - 500, stage: i, weight: w });
  });
  events.push({
    type: 'promoted',
    at,
    rules: [
      { version_tag: BASE, weight: 0 },
      { version_tag: CAN, weight: 100 },
    ],
  });
  events.push({
    type: 'rollout_finished',
    at: at + 10,
    outcome: 'promoted',
    exitCode: 0,
    route: ROUTE,
    traffic: [
      { version_tag: BASE, weight: 0 },
      { version_tag: CAN, weight: 100 },
    ],
    summary: `promoted: ${CAN} 100% on ${ROUTE}`,
  });
  return events;
}

/** Stage 2 goes bad: error rate 9.1 % fails twice, instant rollback. */
export function rolledBackRun(): RolloutEvent[] {
  const events: RolloutEvent[] = [started([5, 25, 50, 100])];
  events.push(...stage(0, 5, T0 + 1000, 4));
  events.push({ type: 'stage_passed', at: T0 + 61 * MIN, stage: 0, weight: 5 });
  events.push(...stage(1, 25, T0 + 61 * MIN, 4));
  for (let k = 1; k <= 2; k++) {
    const t = T0 + 61 * MIN + k * 30_000;
    const canary = metrics(CAN, t, { error_rate: 0.091, error_count: 167, latency_p99_ms: 2450 });
    const baseline = metrics(BASE, t, { error_rate: 0.004 });
    const checks: CheckResult[] = [
      {
        id: 'error_rate.max',
        metric: 'error_rate',
        kind: 'threshold',
        status: 'fail',
        value: 0.091,
        bound: 0.02,
        reason: 'error_rate 9.10% is above max 2.00%',
      },
      {
        id: 'latency_p99_ms.max',
        metric: 'latency_p99_ms',
        kind: 'threshold',
        status: 'pass',
        value: 2450,
        bound: 2500,
        reason: 'p99 2450ms is within max 2500ms',
      },
    ];
    events.push({
      type: 'evaluation',
      at: t,
      stage: 1,
      evaluation: evaluation(t, canary, baseline, checks),
      consecutiveFailures: k,
      failureLimit: 2,
      bakeElapsedMs: k * 30_000,
      bakeMs: 60 * MIN,
      nextCheckAt: t + 30_000,
    });
  }
  const t = T0 + 62 * MIN;
  events.push({
    type: 'rollback_started',
    at: t,
    stage: 1,
    cause: 'health',
    reason: 'error_rate 9.10% > max 2.00% in 2 consecutive checks',
    to: rules(0),
  });
  events.push({ type: 'rolled_back', at: t + 320, rules: rules(0), revision: 13, durationMs: 320 });
  events.push({
    type: 'rollout_finished',
    at: t + 330,
    outcome: 'rolled_back',
    exitCode: 3,
    route: ROUTE,
    traffic: rules(0),
    summary: `rolled back at stage 2/4: error_rate 9.10% > max 2.00%; ${BASE} serves 100%`,
    next: `canary status --route ${ROUTE}`,
  });
  return events;
}

/** Too little canary traffic: waits, then gives up and rolls back for insufficient data. */
export function waitingRun(): RolloutEvent[] {
  const events: RolloutEvent[] = [started([5, 100])];
  events.push(...stage(0, 5, T0 + 1000, 2));
  for (let k = 1; k <= 3; k++) {
    const t = T0 + 1000 + k * 30_000;
    events.push({
      type: 'waiting_for_data',
      at: t,
      stage: 0,
      requests: 10 + k * 8,
      minRequests: 200,
      deadlineAt: T0 + 1000 + 10 * MIN,
    });
  }
  const t = T0 + 1000 + 2 * MIN;
  const canary = metrics(CAN, t, {
    request_count: 34,
    error_count: 0,
    error_rate: null,
    latency_p50_ms: null,
    latency_p99_ms: null,
    cost_per_token: null,
  });
  const baseline = metrics(BASE, t, {});
  const checks: CheckResult[] = [
    {
      id: 'error_rate.max',
      metric: 'error_rate',
      kind: 'threshold',
      status: 'no_data',
      value: null,
      bound: 0.02,
      reason: 'no error_rate for the canary',
    },
  ];
  events.push({
    type: 'evaluation',
    at: t,
    stage: 0,
    evaluation: evaluation(t, canary, baseline, checks),
    consecutiveFailures: 0,
    failureLimit: 2,
    bakeElapsedMs: 0,
    bakeMs: 60 * MIN,
    nextCheckAt: t + 30_000,
  });
  events.push({
    type: 'metrics_error',
    at: t + 30_000,
    stage: 0,
    message: 'relay answered 503',
    consecutive: 1,
    limit: 3,
  });
  events.push({
    type: 'waiting_for_data',
    at: t + 60_000,
    stage: 0,
    requests: 34,
    minRequests: 200,
    deadlineAt: T0 + 1000 + 10 * MIN,
  });
  const end = T0 + 1000 + 10 * MIN;
  events.push({
    type: 'rollback_started',
    at: end,
    stage: 0,
    cause: 'insufficient_data',
    reason: 'only 34/200 canary requests before the data deadline',
    to: rules(0),
  });
  events.push({ type: 'rolled_back', at: end + 200, rules: rules(0), durationMs: 200 });
  events.push({
    type: 'rollout_finished',
    at: end + 210,
    outcome: 'rolled_back',
    exitCode: 3,
    route: ROUTE,
    traffic: rules(0),
    summary: 'rolled back: not enough canary traffic to judge',
    next: 'raise the canary weight or lower analysis.min_requests',
  });
  return events;
}

/** Events that produce two plain lines: a finished event carrying `next`. */
export function expectedLineCount(events: RolloutEvent[]): number {
  return events.reduce((n, e) => n + (e.type === 'rollout_finished' && e.next ? 2 : 1), 0);
}
