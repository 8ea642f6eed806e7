/**
 * The judgement suite's scenarios: traffic whose right outcome is known, built for a given
 * plan (its version tags, the length of its bakes, and, for "exactly at the bound", its own
 * margins). Times scale with the plan's total bake T so a 6 s quickstart and a 30 min plan
 * meet the same incident at the same point of their run (for the init plan, T = 30 min: a
 * burst every 2 min, the shared incident from 7.5 to 15 min).
 *
 * `holdout` scenarios were not looked at while the analysis and its defaults were chosen;
 * they check that the targets hold beyond what was tuned on.
 */
import { comparisonBound } from '../../src/analysis/sequential-comparisons.js';
import type { JudgedMetric } from '../../src/domain/metrics.js';
import type { Plan } from '../../src/domain/plan.js';
import type { Scenario } from '../../src/emulator/index.js';

export interface BuiltScenario {
  scenario: Scenario;
  rps: number;
  outage?: { fromMs: number; toMs: number } | undefined;
}

export interface JudgeScenario {
  name: string;
  truth: 'good' | 'bad';
  holdout?: boolean;
  description: string;
  /** Null when the scenario does not apply to the plan (e.g. no margin for that metric). */
  build(plan: Plan): BuiltScenario | null;
}

export const BASE = { error_rate: 0.01, latency_p50_ms: 400, latency_p99_ms: 1800, cost_per_token: 0.000015 };
const RPS = 1000;

/** Total bake of the plan's stages (the run's length when all goes well). */
export function totalBakeMs(plan: Plan): number {
  return plan.stages.reduce((a, s) => a + s.bakeMs, 0);
}

type Behaviour = Partial<typeof BASE> & { changes?: NonNullable<Scenario['versions']>[string]['changes'] };

function versions(plan: Plan, canary: Behaviour, baseline: Behaviour = {}): Scenario {
  return {
    versions: {
      [plan.baseline.tag]: { ...BASE, ...baseline },
      [plan.canary.tag]: { ...BASE, ...canary },
    },
  };
}

function simple(canary: Behaviour, rps = RPS) {
  return (plan: Plan): BuiltScenario => ({ scenario: versions(plan, canary), rps });
}

/** The canary exactly at the plan's bound for one metric (null when the plan has no such margin). */
function atBound(metric: JudgedMetric) {
  return (plan: Plan): BuiltScenario | null => {
    const rule = plan.analysis.baselineComparison[metric];
    if (!rule) return null;
    const value = comparisonBound(metric, rule, BASE[metric]);
    const canary: Behaviour = { [metric]: value };
    // p99 must stay at least p50.
    if (metric === 'latency_p50_ms' && value > BASE.latency_p99_ms) canary.latency_p99_ms = value;
    return { scenario: versions(plan, canary), rps: RPS };
  };
}

/** Both versions changed alike (an upstream incident) from `from` to `to`, as shares of T. */
function sharedIncident(set: Behaviour, from: number, to: number) {
  return (plan: Plan): BuiltScenario => ({
    scenario: {
      ...versions(plan, {}),
      all_versions: {
        changes: [{ when: { between_ms: [totalBakeMs(plan) * from, totalBakeMs(plan) * to] }, set }],
      },
    },
    rps: RPS,
  });
}

function bursts(errorRate: number, everyShare: number, forShare: number) {
  return (plan: Plan): BuiltScenario => ({
    scenario: versions(plan, {
      changes: [
        {
          when: {
            every_ms: Math.max(2000, totalBakeMs(plan) * everyShare),
            for_ms: Math.max(1000, totalBakeMs(plan) * forShare),
          },
          set: { error_rate: errorRate },
        },
      ],
    }),
    rps: RPS,
  });
}

export const SCENARIOS: JudgeScenario[] = [
  { name: 'equal', truth: 'good', description: 'equal versions, 1 % errors', build: simple({}) },
  {
    name: 'canary-better',
    truth: 'good',
    description: 'canary 0.7 % errors, p50 350 ms, p99 1500 ms, cost −10 %',
    build: simple({
      error_rate: 0.007,
      latency_p50_ms: 350,
      latency_p99_ms: 1500,
      cost_per_token: 0.0000135,
    }),
  },
  {
    name: 'at-bound-error-rate',
    truth: 'good',
    description: 'canary error rate exactly at the plan’s bound',
    build: atBound('error_rate'),
  },
  {
    name: 'at-bound-p50',
    truth: 'good',
    description: 'canary p50 exactly at the plan’s bound',
    build: atBound('latency_p50_ms'),
  },
  {
    name: 'at-bound-p99',
    truth: 'good',
    description: 'canary p99 exactly at the plan’s bound',
    build: atBound('latency_p99_ms'),
  },
  {
    name: 'at-bound-cost',
    truth: 'good',
    description: 'canary cost per token exactly at the plan’s bound',
    build: atBound('cost_per_token'),
  },
  {
    name: 'errors-1.5x',
    truth: 'bad',
    description: 'canary 1.5 % errors vs 1 % from the start',
    build: simple({ error_rate: 0.015 }),
  },
  {
    name: 'errors-2x',
    truth: 'bad',
    description: 'canary 2 % errors vs 1 %',
    build: simple({ error_rate: 0.02 }),
  },
  {
    name: 'errors-3x',
    truth: 'bad',
    description: 'canary 3 % errors vs 1 %',
    build: simple({ error_rate: 0.03 }),
  },
  {
    name: 'errors-2x-above-25',
    truth: 'bad',
    description: 'fine at 5 % and 25 %, 2 % errors above 25 % weight',
    build: simple({ changes: [{ when: { weight_at_least: 26 }, set: { error_rate: 0.02 } }] }),
  },
  {
    name: 'p50+30%',
    truth: 'bad',
    description: 'canary p50 520 ms vs 400 ms',
    build: simple({ latency_p50_ms: 520 }),
  },
  {
    name: 'p99+40%',
    truth: 'bad',
    description: 'canary p99 2520 ms vs 1800 ms',
    build: simple({ latency_p99_ms: 2520 }),
  },
  {
    name: 'cost+15%',
    truth: 'bad',
    description: 'canary cost per token +15 %',
    build: simple({ cost_per_token: 0.00001725 }),
  },
  {
    name: 'bursts',
    truth: 'bad',
    description: '50 % errors for T/180 every T/15 (10 s every 2 min on the init plan), phase by seed',
    build: bursts(0.5, 1 / 15, 1 / 180),
  },
  {
    name: 'shared-incident',
    truth: 'good',
    description: 'both versions at 4 % errors and p99 3 s from T/4 to T/2 (an upstream incident)',
    build: sharedIncident({ error_rate: 0.04, latency_p99_ms: 3000 }, 0.25, 0.5),
  },
  { name: 'rps-20', truth: 'good', description: 'equal versions at 20 requests/s', build: simple({}, 20) },
  {
    name: 'rps-5000',
    truth: 'good',
    description: 'equal versions at 5000 requests/s',
    build: simple({}, 5000),
  },
  {
    name: 'traffic-drop',
    truth: 'good',
    description: 'equal versions; traffic falls to 20 requests/s from 0.4 T to 0.6 T',
    build: (plan) => ({
      scenario: {
        ...versions(plan, {}),
        rps_changes: [
          { after_ms: totalBakeMs(plan) * 0.4, rps: 20 },
          { after_ms: totalBakeMs(plan) * 0.6, rps: RPS },
        ],
      },
      rps: RPS,
    }),
  },
  {
    name: 'metrics-outage',
    truth: 'good',
    description: 'equal versions; /v1/metrics answers 503 for two intervals from 0.3 T',
    build: (plan) => {
      const from = Math.round(totalBakeMs(plan) * 0.3);
      return {
        scenario: versions(plan, {}),
        rps: RPS,
        outage: { fromMs: from, toMs: from + 2 * plan.analysis.intervalMs - 1000 },
      };
    },
  },
  // Hold-outs: not run while the analysis and the defaults were chosen.
  {
    name: 'holdout-low-base-errors-2x',
    truth: 'bad',
    holdout: true,
    description: 'baseline 0.2 % errors, canary 0.6 % (3×, under the floor’s reach at 5 %)',
    build: (plan) => ({ scenario: versions(plan, { error_rate: 0.006 }, { error_rate: 0.002 }), rps: RPS }),
  },
  {
    name: 'holdout-high-base-errors-1.5x',
    truth: 'bad',
    holdout: true,
    description: 'baseline 5 % errors, canary 7.5 %',
    build: (plan) => ({ scenario: versions(plan, { error_rate: 0.075 }, { error_rate: 0.05 }), rps: RPS }),
  },
  {
    name: 'holdout-p99+50%-200rps',
    truth: 'bad',
    holdout: true,
    description: 'canary p99 2700 ms vs 1800 ms at 200 requests/s',
    build: simple({ latency_p99_ms: 2700 }, 200),
  },
  {
    name: 'holdout-late-errors-4x',
    truth: 'bad',
    holdout: true,
    description: 'canary fine until 0.4 T, then 4 % errors',
    build: (plan) => ({
      scenario: versions(plan, {
        changes: [{ when: { after_ms: totalBakeMs(plan) * 0.4 }, set: { error_rate: 0.04 } }],
      }),
      rps: RPS,
    }),
  },
  {
    name: 'holdout-latency-incident',
    truth: 'good',
    holdout: true,
    description: 'both versions at p99 4 s and p50 700 ms from 0.1 T to 0.3 T',
    build: sharedIncident({ latency_p50_ms: 700, latency_p99_ms: 4000 }, 0.1, 0.3),
  },
  {
    name: 'holdout-good-200rps-noisy',
    truth: 'good',
    holdout: true,
    description: 'equal versions at 200 requests/s with 3 % errors',
    build: (plan) => ({ scenario: versions(plan, { error_rate: 0.03 }, { error_rate: 0.03 }), rps: 200 }),
  },
  {
    name: 'holdout-good-traffic-ramp',
    truth: 'good',
    holdout: true,
    description: 'equal versions; traffic 100 → 3000 requests/s at 0.5 T',
    build: (plan) => ({
      scenario: { ...versions(plan, {}), rps_changes: [{ after_ms: totalBakeMs(plan) * 0.5, rps: 3000 }] },
      rps: 100,
    }),
  },
];
