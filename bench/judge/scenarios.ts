/**
 * The judgement suite's scenarios: emulator behaviours whose right outcome is known. Tags are
 * the ones bench/judge/plan.yaml names. Times are from the emulator's start, which is the
 * rollout's start; with 60 s bakes stage 2 (25 %) begins at about 60 s.
 */
import type { Scenario } from '../../src/emulator/index.js';

export const BASELINE = 'judge-baseline';
export const CANARY = 'judge-canary';

export interface JudgeScenario {
  name: string;
  /** What a correct analysis does with this canary. */
  truth: 'good' | 'bad';
  description: string;
  rps: number;
  emulator: Scenario;
  /** A metrics outage: /v1/metrics answers 503 from `fromMs` until `toMs`. */
  outage?: { fromMs: number; toMs: number };
}

const base = { error_rate: 0.01, latency_p50_ms: 400, latency_p99_ms: 1800, cost_per_token: 0.000015 };

export const SCENARIOS: JudgeScenario[] = [
  {
    name: 'good-noisy-low-traffic',
    truth: 'good',
    description: 'equal versions, 2 % errors, 200 rps (10 canary requests/s at 5 %)',
    rps: 200,
    emulator: {
      versions: { [BASELINE]: { ...base, error_rate: 0.02 }, [CANARY]: { ...base, error_rate: 0.02 } },
    },
  },
  {
    name: 'good-faster-cheaper',
    truth: 'good',
    description: 'canary p50 350 ms, p99 1500 ms, cost −10 %',
    rps: 1000,
    emulator: {
      versions: {
        [BASELINE]: base,
        [CANARY]: { ...base, latency_p50_ms: 350, latency_p99_ms: 1500, cost_per_token: 0.0000135 },
      },
    },
  },
  {
    name: 'bad-3x-errors',
    truth: 'bad',
    description: 'canary error rate 3 % vs baseline 1 % from the start',
    rps: 1000,
    emulator: { versions: { [BASELINE]: base, [CANARY]: { ...base, error_rate: 0.03 } } },
  },
  {
    name: 'bad-at-25',
    truth: 'bad',
    description: 'fine at 5 %, 4 % errors from 25 % weight',
    rps: 1000,
    emulator: {
      versions: {
        [BASELINE]: base,
        [CANARY]: { ...base, changes: [{ when: { weight_at_least: 25 }, set: { error_rate: 0.04 } }] },
      },
    },
  },
  {
    name: 'bad-p99-only',
    truth: 'bad',
    description: 'canary p99 2700 ms vs 1800 ms (1.5×), errors equal',
    rps: 1000,
    emulator: { versions: { [BASELINE]: base, [CANARY]: { ...base, latency_p99_ms: 2700 } } },
  },
  {
    name: 'bad-cost-only',
    truth: 'bad',
    description: 'canary cost per token 1.2× the baseline, all else equal',
    rps: 1000,
    emulator: { versions: { [BASELINE]: base, [CANARY]: { ...base, cost_per_token: 0.000018 } } },
  },
  {
    name: 'good-baseline-degrades',
    truth: 'good',
    description: 'an upstream incident from 90 s: both versions go to 3 % errors and p99 2600 ms',
    rps: 1000,
    emulator: {
      versions: {
        [BASELINE]: {
          ...base,
          changes: [{ when: { after_ms: 90_000 }, set: { error_rate: 0.03, latency_p99_ms: 2600 } }],
        },
        [CANARY]: {
          ...base,
          changes: [{ when: { after_ms: 90_000 }, set: { error_rate: 0.03, latency_p99_ms: 2600 } }],
        },
      },
    },
  },
  {
    name: 'good-metrics-outage',
    truth: 'good',
    description: 'equal versions; /v1/metrics answers 503 from 75 s to 95 s',
    rps: 1000,
    emulator: { versions: { [BASELINE]: base, [CANARY]: base } },
    outage: { fromMs: 75_000, toMs: 95_000 },
  },
];
