/**
 * `analysis.baseline_comparison.significance` in a plan: shorthand, defaults, bad values with
 * positions, and a misspelt key with a hint.
 */
import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/plan/load.js';
import { SIGNIFICANCE_DEFAULTS } from '../../src/plan/plan-keys.js';
import { MINIMAL, problemsOf, yaml } from '../plan/helpers.js';

function plan(...analysis: string[]) {
  return yaml(...MINIMAL, 'analysis:', '  baseline_comparison:', ...analysis);
}

describe('significance in a plan', () => {
  it('is off unless asked for', () => {
    const p = parsePlan(plan('    error_rate: { max_increase: 0.01 }'), 'plan.yaml', { cwd: '/plans' });
    expect(p.analysis.significance).toBeUndefined();
    expect(Object.keys(p.analysis.baselineComparison)).toEqual(['error_rate']);
  });

  it('takes true as the defaults, and a mapping field by field', () => {
    const short = parsePlan(
      plan('    significance: true', '    error_rate: { max_increase: 0.01 }'),
      'p.yaml',
    );
    expect(short.analysis.significance).toEqual(SIGNIFICANCE_DEFAULTS);
    const full = parsePlan(
      plan(
        '    significance: { enabled: true, confidence: 0.98, min_windows: 5 }',
        '    error_rate: { max_ratio: 2 }',
      ),
      'p.yaml',
    );
    expect(full.analysis.significance).toEqual({ confidence: 0.98, minWindows: 5 });
    expect(full.analysis.baselineComparison).toEqual({ error_rate: { max_ratio: 2 } });
    const off = parsePlan(plan('    significance: { enabled: false, confidence: 0.98 }'), 'p.yaml');
    expect(off.analysis.significance).toBeUndefined();
  });

  it('reports bad values and misspelt keys where they are', () => {
    expect(problemsOf(plan('    significance: { confidence: 1.5, min_windows: 1 }'))).toEqual([
      '11:33: analysis.baseline_comparison.significance.confidence: expected a confidence between 0.5 and 0.999, e.g. 0.95, got 1.5',
      '11:51: analysis.baseline_comparison.significance.min_windows: expected a whole number of at least 2, got 1',
    ]);
    const [problem] = problemsOf(plan('    signifcance: true'));
    expect(problem).toMatch(/^11:5: unknown key 'signifcance'.*did you mean 'significance'\?/);
    const [typo] = problemsOf(plan('    significance: { confidense: 0.9 }'));
    expect(typo).toMatch(/^11:21: unknown key 'confidense'.*did you mean 'confidence'\?/);
  });

  it('reads a floor beside a ratio, and holds it to the metric’s kind of amount where it is written', () => {
    const p = parsePlan(plan('    error_rate: { max_ratio: 1.25, floor: 0.002 }'), 'p.yaml');
    expect(p.analysis.baselineComparison).toEqual({ error_rate: { max_ratio: 1.25, floor: 0.002 } });
    const latency = parsePlan(plan('    latency_p99_ms: { max_ratio: 1.2, floor: 50 }'), 'p.yaml');
    expect(latency.analysis.baselineComparison).toEqual({ latency_p99_ms: { max_ratio: 1.2, floor: 50 } });
    expect(problemsOf(plan('    error_rate: { max_ratio: 1.25, floor: 2 }'))).toEqual([
      '11:43: analysis.baseline_comparison.error_rate.floor: expected a number between 0 and 1, got 2',
    ]);
    expect(problemsOf(plan('    latency_p99_ms: { max_ratio: 1.2, floor: -5 }'))).toEqual([
      '11:46: analysis.baseline_comparison.latency_p99_ms.floor: expected a number of at least 0, got -5',
    ]);
  });
});
