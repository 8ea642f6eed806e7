/**
 * The judgement suite for `analysis.metrics`: scenarios whose right outcome is known, on the
 * custom metrics of examples/llm.yaml (TTFT p99 and the 429 share, read as the emulator's
 * Prometheus exposition would give them: bench/judge/custom-emulation.ts), for
 *
 * - `init+llm-metrics`: the plan `canary init` writes, with llm.yaml's `analysis.metrics` added;
 * - `llm`: examples/llm.yaml as shipped (significance off: the plain per-window judge);
 * - `llm+significance`: llm.yaml with significance on and `window` equal to `interval`.
 *
 *   npm run judge -- custom [--seeds N] [--plans …] [--scenario …] [--concurrency N] [--out file.json]
 *
 * Run the same command on a checkout before custom metrics joined the sequential analysis for
 * the old per-window judge's figures on the same seeds (docs/judgement.md says how).
 */

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Plan } from '../src/domain/plan.js';
import { loadPlan } from '../src/plan/load.js';
import { runSeeds } from '../src/simulate/run-seed.js';
import { summariseRuns } from '../src/simulate/summary.js';
import { type CustomTruth, DEFAULT_TRUTH, emulatedCustomMetrics } from './judge/custom-emulation.js';
import { initPlan } from './judge/init-plan.js';
import { BASE, totalBakeMs } from './judge/scenarios.js';

const ROOT = process.env.JUDGE_ROOT ?? process.cwd();

async function llmPlan(): Promise<Plan> {
  return loadPlan(path.join(ROOT, 'examples', 'llm.yaml'));
}

export const CUSTOM_PLANS: Record<string, () => Promise<Plan>> = {
  'init+llm-metrics': async () => {
    const [init, llm] = await Promise.all([initPlan(), llmPlan()]);
    return { ...init, analysis: { ...init.analysis, customMetrics: llm.analysis.customMetrics } };
  },
  llm: llmPlan,
  'llm+significance': async () => {
    const llm = await llmPlan();
    return {
      ...llm,
      analysis: {
        ...llm.analysis,
        windowMs: llm.analysis.intervalMs,
        significance: { confidence: 0.99, minWindows: 4 },
        failureLimit: 1,
      },
    };
  },
};

interface CustomScenario {
  name: string;
  truth: 'good' | 'bad';
  description: string;
  /** Requests per second on the route (default 1 000). */
  rps?: number;
  build(plan: Plan): CustomTruth | null;
}

const rule = (plan: Plan, name: string) => plan.analysis.customMetrics?.find((m) => m.name === name)?.rule;

const ttftTimes = (times: number) => (plan: Plan) => {
  const ratio = rule(plan, 'ttft_p99_ms')?.max_ratio;
  if (ratio === undefined) return null;
  return {
    ...DEFAULT_TRUTH,
    ttft: { baseline: DEFAULT_TRUTH.ttft.baseline, canary: DEFAULT_TRUTH.ttft.baseline * ratio * times },
  };
};

const limited = (over: number) => (plan: Plan) => {
  const increase = rule(plan, 'rate_limited_share')?.max_increase;
  if (increase === undefined) return null;
  const base = DEFAULT_TRUTH.rateLimited.baseline;
  return { ...DEFAULT_TRUTH, rateLimited: { baseline: base, canary: base + increase * over } };
};

export const CUSTOM_SCENARIOS: CustomScenario[] = [
  {
    name: 'custom-equal',
    truth: 'good',
    description: 'equal versions: TTFT p99 ≈ 800 ms, 0.5 % 429s',
    build: () => DEFAULT_TRUTH,
  },
  {
    name: 'custom-ttft-at-bound',
    truth: 'good',
    description: 'canary TTFT p99 exactly at its max_ratio (1.5 × 800 ms = 1200 ms, under max 2000)',
    build: ttftTimes(1),
  },
  {
    name: 'custom-ttft-bound+20%',
    truth: 'bad',
    description: 'canary TTFT p99 20 % past its bound (1.8 × the baseline’s), under the absolute max',
    build: ttftTimes(1.2),
  },
  {
    name: 'custom-ttft-bound+50%',
    truth: 'bad',
    description: 'canary TTFT p99 50 % past its bound (2.25 × the baseline’s), under the absolute max',
    build: ttftTimes(1.5),
  },
  {
    name: 'custom-ttft-shared-incident',
    truth: 'good',
    description: 'both versions’ TTFT × 3 (2400 ms > max 2000) from T/4 to T/2: an upstream slow to start',
    build: (plan) => ({
      ...DEFAULT_TRUTH,
      ttftIncident: { factor: 3, fromMs: totalBakeMs(plan) * 0.25, toMs: totalBakeMs(plan) * 0.5 },
    }),
  },
  {
    name: 'custom-equal-20rps',
    truth: 'good',
    rps: 20,
    description: 'equal versions at 20 requests/s (1 a second on the canary at 5 %)',
    build: () => DEFAULT_TRUTH,
  },
  {
    name: 'custom-429-at-bound',
    truth: 'good',
    description: 'canary 429 share exactly at baseline + max_increase (0.5 % + 1 point)',
    build: limited(1),
  },
  {
    name: 'custom-429-bad',
    truth: 'bad',
    description: 'canary 429 share at baseline + 2 points (2.5 %: past max_increase and max 2 %)',
    build: limited(2),
  },
];

export async function customMain(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seeds: { type: 'string', default: '100' },
      plans: { type: 'string', default: Object.keys(CUSTOM_PLANS).join(',') },
      scenario: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      out: { type: 'string' },
      /** Print the summary of the first few runs judged wrong (a debugging aid). */
      why: { type: 'boolean', default: false },
    },
  });
  const seeds = Number(values.seeds);
  const started = Date.now();
  const entries = [];
  for (const planName of values.plans.split(',')) {
    const make = CUSTOM_PLANS[planName];
    if (!make) throw new Error(`no plan ${planName}; plans: ${Object.keys(CUSTOM_PLANS).join(', ')}`);
    const plan = await make();
    for (const scenario of CUSTOM_SCENARIOS) {
      if (values.scenario && !values.scenario.split(',').includes(scenario.name)) continue;
      const truth = scenario.build(plan);
      if (!truth) continue;
      const emulator = { versions: { [plan.baseline.tag]: { ...BASE }, [plan.canary.tag]: { ...BASE } } };
      const runs = await runSeeds(
        {
          plan,
          scenario: emulator,
          rps: scenario.rps ?? 1000,
          customMetrics: emulatedCustomMetrics(plan, truth),
        },
        seeds,
        { concurrency: Number(values.concurrency) },
      );
      const summary = summariseRuns(runs);
      const right = runs.filter((r) => (scenario.truth === 'bad') === (r.outcome === 'rolled_back')).length;
      const entry = {
        plan: planName,
        scenario: scenario.name,
        truth: scenario.truth,
        description: scenario.description,
        correct_pct: Math.round((1000 * right) / runs.length) / 10,
        ...summary,
      };
      entries.push(entry);
      if (values.why) {
        const wrong = runs.filter((r) => (scenario.truth === 'bad') !== (r.outcome === 'rolled_back'));
        for (const r of wrong.slice(0, 3)) console.log(`    seed ${r.seed}: ${r.summary}`);
      }
      const outcomes = Object.entries(summary.outcomes)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      console.log(
        `${planName.padEnd(17)} ${scenario.name.padEnd(28)} ${scenario.truth.padEnd(4)} rolled back ${String(summary.rolled_back_pct).padStart(5)} %  ` +
          `[${outcomes}]  decided ${summary.decision_seconds.median} s  shared seen ${summary.shared_incident_seen_pct} %  (${Math.round((Date.now() - started) / 1000)} s)`,
      );
    }
  }
  if (values.out) {
    await writeFile(
      values.out,
      `${JSON.stringify({ generated_at: new Date().toISOString(), seeds, entries }, null, 2)}\n`,
    );
    console.log(`wrote ${values.out}`);
  }
}
