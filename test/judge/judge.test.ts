/**
 * The judgement suite's runner on single seeds: a bad canary is rolled back and its blast
 * radius counted from the emulator, a good one survives a metrics outage, and the summary
 * arithmetic is right. The full suite is `npm run judge`.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../bench/judge/scenarios.js';
import { runOne, summarise } from '../../bench/judge.js';
import { loadPlan } from '../../src/plan/load.js';

const PLAN = path.resolve(import.meta.dirname, '../../bench/judge/plan.yaml');
const scenario = (name: string) => {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found) throw new Error(name);
  return found;
};

describe('judgement runner', () => {
  it('rolls back a 3× error rate and counts the failed requests the canary served', async () => {
    const plan = await loadPlan(PLAN);
    expect(plan.analysis.significance).toEqual({ confidence: 0.98, minWindows: 4 });
    const run = await runOne(scenario('bad-3x-errors'), plan, 1000);
    expect(run).toMatchObject({ outcome: 'rolled_back', cause: 'health', correct: true, stage: 0 });
    expect(run.canaryErrors).toBeGreaterThan(0);
    // 5 % of 1000 rps until the decision, at a 3 % error rate.
    expect(run.canaryRequests).toBeGreaterThan(run.canaryErrors * 10);
    expect(run.canaryRequests).toBeLessThan((run.decisionMs / 1000) * 50 * 1.5);
  });

  it('promotes a good canary through a metrics outage, with and without the test', async () => {
    const plan = await loadPlan(PLAN);
    const fixed = { ...plan, analysis: { ...plan.analysis, significance: undefined } };
    for (const p of [plan, fixed]) {
      const run = await runOne(scenario('good-metrics-outage'), p, 1001);
      expect(run).toMatchObject({ outcome: 'promoted', correct: true });
    }
  });

  it('summarises shares, causes and quantiles', () => {
    const base = { cause: null, decisionMs: 10_000, stage: 0, canaryRequests: 100 };
    const s = summarise([
      { ...base, seed: 1, outcome: 'promoted', correct: true, canaryErrors: 1 },
      { ...base, seed: 2, outcome: 'rolled_back', cause: 'health', correct: false, canaryErrors: 5 },
      { ...base, seed: 3, outcome: 'promoted', correct: true, canaryErrors: 3, decisionMs: 30_000 },
      { ...base, seed: 4, outcome: 'promoted', correct: true, canaryErrors: 2 },
    ]);
    expect(s).toMatchObject({
      runs: 4,
      correctPct: 75,
      rolledBackPct: 25,
      causes: { health: 1 },
      canaryErrors: { median: 2, max: 5 },
      decisionSeconds: { median: 10, p90: 30 },
    });
  });
});
