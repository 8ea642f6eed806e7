/**
 * The report's model, the plan record and the step summary's chart, from records written by
 * hand: what a journal or stream says becomes what the report shows, in either key spelling.
 */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/domain/plan.js';
import { planRecord, SECRET_PLACEHOLDER } from '../../src/plan/record.js';
import { buildReportModel } from '../../src/report/build-model.js';
import type { Raw } from '../../src/report/fields.js';
import { decidingMetricChart } from '../../src/report/mermaid.js';
import { GitHubReporter } from '../../src/reporters/github.js';
import type { RolloutEvent } from '../../src/rollout/events.js';

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);

function metrics(tag: string, requests: number, errorRate: number | null, p99: number | null) {
  return {
    version_tag: tag,
    start_time: '',
    end_time: '',
    request_count: requests,
    error_count: errorRate === null ? null : Math.round(requests * errorRate),
    error_rate: errorRate,
    latency_p50_ms: 400,
    latency_p99_ms: p99,
    cost_per_token: 0.000015,
  };
}

function evaluation(
  at: number,
  stage: number,
  canaryRate: number,
  baselineRate: number | null,
  status: 'pass' | 'fail',
) {
  return {
    type: 'evaluation',
    at,
    stage,
    consecutiveFailures: status === 'fail' ? 1 : 0,
    failureLimit: 2,
    bakeElapsedMs: 0,
    bakeMs: 6000,
    nextCheckAt: at + 2000,
    evaluation: {
      at,
      windowStart: at - 6000,
      windowEnd: at,
      canary: metrics('v2', 600, canaryRate, 1500),
      baseline: baselineRate === null ? null : metrics('v1', 6000, baselineRate, 1400),
      canaryRequests: 600,
      minRequests: 100,
      verdict: status,
      checks: [
        {
          id: 'error_rate.max',
          metric: 'error_rate',
          kind: 'threshold',
          status,
          value: canaryRate,
          bound: 0.05,
          reason: `error rate ${canaryRate}`,
        },
        {
          id: 'latency_p99_ms.max',
          metric: 'latency_p99_ms',
          kind: 'threshold',
          status: 'pass',
          value: 1500,
          bound: 3000,
          reason: 'p99 ok',
        },
        {
          id: 'error_rate.vs_baseline',
          metric: 'error_rate',
          kind: 'comparison',
          status: 'pass',
          value: canaryRate,
          baseline: baselineRate,
          bound: baselineRate === null ? null : baselineRate + 0.02,
          reason: 'vs baseline',
        },
      ],
    },
  };
}

/** A run that fails at stage 2: the journal's records, camelCase as the journal writes them. */
function rolledBackRun(): Raw[] {
  return [
    {
      v: 2,
      run: 'r1',
      seq: 0,
      type: 'run_started',
      command: 'rollout',
      at: T0,
      route: 'chat',
      baseline: 'v1',
      canary: 'v2',
      relay: 'http://127.0.0.1:1/v1',
      apiKeyEnv: 'RELAY_API_KEY',
      host: 'h',
      pid: 1,
    },
    {
      type: 'rollout_started',
      at: T0,
      route: 'chat',
      baseline: 'v1',
      canary: 'v2',
      relay: 'x',
      metricsSource: 'relay',
      startStage: 0,
      stages: [
        { weight: 5, bakeMs: 6000, pause: false },
        { weight: 25, bakeMs: 6000, pause: true },
        { weight: 100, bakeMs: 0, pause: false },
      ],
      plan: { route: 'chat' },
      run_by: { user: 'ana', host: 'h', pid: 1, ci: null },
    },
    {
      type: 'stage_started',
      at: T0 + 10,
      stage: 0,
      stageCount: 3,
      weight: 5,
      bakeMs: 6000,
      pause: false,
      rules: [
        { version_tag: 'v1', weight: 95 },
        { version_tag: 'v2', weight: 5 },
      ],
    },
    evaluation(T0 + 6000, 0, 0.01, 0.005, 'pass'),
    { type: 'stage_passed', at: T0 + 6100, stage: 0, weight: 5 },
    {
      type: 'stage_started',
      at: T0 + 6100,
      stage: 1,
      stageCount: 3,
      weight: 25,
      bakeMs: 6000,
      pause: true,
      rules: [
        { version_tag: 'v1', weight: 75 },
        { version_tag: 'v2', weight: 25 },
      ],
    },
    evaluation(T0 + 8000, 1, 0.09, 0.005, 'fail'),
    { type: 'operator_action', at: T0 + 8500, stage: 1, action: 'hold', detail: 'holding' },
    evaluation(T0 + 10000, 1, 0.1, 0.005, 'fail'),
    {
      type: 'rollback_started',
      at: T0 + 10000,
      stage: 1,
      cause: 'health',
      reason: 'error rate 10% > max 5%',
      to: [],
    },
    {
      type: 'rolled_back',
      at: T0 + 10050,
      rules: [
        { version_tag: 'v1', weight: 100 },
        { version_tag: 'v2', weight: 0 },
      ],
      durationMs: 50,
    },
    {
      type: 'rollout_finished',
      at: T0 + 10060,
      outcome: 'rolled_back',
      exitCode: 3,
      route: 'chat',
      traffic: [
        { version_tag: 'v1', weight: 100 },
        { version_tag: 'v2', weight: 0 },
      ],
      summary: 'rolled back',
    },
  ];
}

/** The same records with every key in snake_case, as NDJSON output moves to. */
function snakeCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCase);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
        snakeCase(v),
      ]),
    );
  return value;
}

describe('buildReportModel', () => {
  it('reads a rolled-back run: stages, rollback, the deciding metric, operator actions', () => {
    const model = buildReportModel(rolledBackRun(), 'journal');
    expect(model.outcome).toBe('rolled_back');
    expect(model.exitCode).toBe(3);
    expect(model.stages.map((s) => s.status)).toEqual(['passed', 'failed', 'not reached']);
    expect(model.rollback).toMatchObject({
      stage: 1,
      cause: 'health',
      reason: 'error rate 10% > max 5%',
      durationMs: 50,
    });
    expect(model.decidingMetric).toBe('error_rate');
    expect(model.metrics.map((m) => m.metric)).toEqual(['error_rate', 'latency_p99_ms']);
    const errorRate = model.metrics[0];
    expect(errorRate?.thresholds).toEqual([0.05]);
    expect(errorRate?.comparison.map((c) => c.bound)).toEqual([0.025, 0.025, 0.025]);
    expect(errorRate?.points.map((p) => [p.canary, p.baseline, p.verdict])).toEqual([
      [0.01, 0.005, 'pass'],
      [0.09, 0.005, 'fail'],
      [0.1, 0.005, 'fail'],
    ]);
    expect(model.timeline.find((e) => e.kind === 'operator')?.label).toBe('operator: hold');
    expect(model.weights.map((w) => w.weight)).toEqual([5, 25, 0]);
    expect(model.lacks).toEqual([]);
  });

  it('reads the same run written with snake_case keys identically', () => {
    const camel = buildReportModel(rolledBackRun(), 'x');
    const snake = buildReportModel(snakeCase(rolledBackRun()) as Raw[], 'x');
    expect(snake).toEqual(camel);
  });

  it('counts overlapping evaluation windows once for the blast radius', () => {
    // Windows of 6 s every 6 s, then every 2 s: the second and third overlap the one before by 4 s.
    const model = buildReportModel(rolledBackRun(), 'x');
    // 600 + 600 × 2/6 + 600 × 2/6 requests; errors at each window's rate; excess over 0.5 %.
    expect(model.blast?.canaryRequests).toBe(1000);
    expect(model.blast?.canaryErrors).toBe(Math.round(600 * 0.01 + 200 * 0.09 + 200 * 0.1));
    expect(model.blast?.excessErrors).toBe(Math.round(600 * 0.005 + 200 * 0.085 + 200 * 0.095));
  });

  it('names what a version 1 journal lacks', () => {
    const records = rolledBackRun().map((r) => {
      const { plan, run_by, ...rest } = r;
      return r.type === 'rollout_started' ? rest : r;
    });
    const model = buildReportModel(records, 'old');
    expect(model.plan).toBeNull();
    expect(model.lacks.join(' ')).toMatch(/the plan as run .* only the plan's path and sha256 are known/);
    expect(model.lacks.join(' ')).toMatch(/the user and CI that ran it/);
  });

  it('says there is no outcome when the process died mid-run', () => {
    const model = buildReportModel(rolledBackRun().slice(0, 6), 'x');
    expect(model.outcome).toBeNull();
    expect(model.lacks.join(' ')).toMatch(/an outcome: the run is still going, or its process died/);
  });
});

describe('planRecord', () => {
  it('keeps the plan, in snake_case, without a webhook URL or a password in a URL', () => {
    const plan = {
      file: '/p/plan.yaml',
      hash: 'abc',
      relay: { url: 'https://user:hunter2@relay.internal/v1', apiKeyEnv: 'RELAY_API_KEY' },
      route: 'chat',
      baseline: { tag: 'v1', spec: { version_tag: 'v1', model: 'm', parameters: { topP: 0.9 } } },
      canary: { tag: 'v2' },
      stages: [{ index: 0, weight: 5, bakeMs: 6000, pause: false, dataDeadlineMs: 12000 }],
      notify: [
        {
          url: 'https://hooks.slack.com/services/T/B/secret',
          events: ['failed'],
          format: 'slack',
          timeoutMs: 5000,
        },
        { urlEnv: 'HOOK_URL', events: ['failed'], format: 'json', timeoutMs: 5000 },
      ],
    } as unknown as Plan;
    const record = planRecord(plan);
    const text = JSON.stringify(record);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('hooks.slack.com');
    expect(record.relay).toEqual({ url: 'https://relay.internal/v1', api_key_env: 'RELAY_API_KEY' });
    expect(record.notify).toEqual([
      { url: SECRET_PLACEHOLDER, events: ['failed'], format: 'slack', timeout_ms: 5000 },
      { url_env: 'HOOK_URL', events: ['failed'], format: 'json', timeout_ms: 5000 },
    ]);
    // User content keeps its own keys.
    expect(record.baseline).toEqual({
      tag: 'v1',
      spec: { version_tag: 'v1', model: 'm', parameters: { topP: 0.9 } },
    });
    expect(record.stages).toEqual([
      { index: 0, weight: 5, bake_ms: 6000, pause: false, data_deadline_ms: 12000 },
    ]);
  });
});

describe('the step summary chart', () => {
  it('draws the metric that decided the rollback: canary, baseline and threshold lines', () => {
    const chart = decidingMetricChart(rolledBackRun()) ?? '';
    expect(chart).toContain('```mermaid');
    expect(chart).toContain('xychart-beta');
    expect(chart).toContain('title "error_rate: canary vs baseline"');
    expect(chart).toContain('x-axis "time since start" ["6s", "8s", "10s"]');
    expect(chart).toContain('line [1, 9, 10]');
    expect(chart).toContain('line [0.5, 0.5, 0.5]');
    expect(chart).toContain('line [5, 5, 5]');
    expect(chart).toContain('the metric that decided the rollback');
    // Lines coloured as the HTML report's charts: canary orange, baseline blue, threshold red.
    expect(chart).toContain('"plotColorPalette": "#e8590c, #1c7ed6, #e03131"');
  });

  it('is left out when fewer than two evaluations measured anything', () => {
    expect(decidingMetricChart(rolledBackRun().slice(0, 4))).toBeUndefined();
  });

  it('goes into the GitHub step summary with a line naming the report', () => {
    const written: string[] = [];
    const inner = { event() {}, async close() {} };
    const reporter = new GitHubReporter(
      inner,
      { write: (s: string) => written.push(s) > 0 },
      { reportFile: 'canary-report.html' },
    );
    for (const r of rolledBackRun().slice(1)) reporter.event(r as unknown as RolloutEvent);
    const summary = reporter.summary();
    expect(summary).toContain('xychart-beta');
    expect(summary).toContain('**Report:** `canary-report.html`');
  });
});
