/** The engine's pre-traffic hook: nothing moves before the evaluation passes. */
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import type { EvaluationReport } from '../../src/evaluation/types.js';
import { DEFAULT_EVAL_RULES } from '../../src/evaluation/verdict.js';
import { BASE, CANARY, harness, MIN, ROUTE } from './harness.js';

function withEvaluation() {
  const h = harness({
    stages: [
      { weight: 50, bakeMs: MIN },
      { weight: 100, bakeMs: 0 },
    ],
  });
  h.plan.evaluation = {
    prompts: ['/plans/p.jsonl'],
    repeat: 1,
    concurrency: 2,
    timeoutMs: 1000,
    maxTokens: 10,
    stream: true,
    rules: { ...DEFAULT_EVAL_RULES },
    explicit: [],
    showWorst: 3,
  };
  return h;
}

function report(verdict: 'pass' | 'fail'): EvaluationReport {
  const stats = (tag: string) => ({
    version_tag: tag,
    requests: 4,
    success_rate: 1,
    expectation_pass_rate: verdict === 'pass' || tag === BASE ? 1 : 0.25,
    expectation_checked: 4,
    latency_p50_ms: 10,
    latency_p99_ms: 20,
    ttft_p50_ms: 5,
    ttft_p99_ms: 6,
    output_tokens: 9,
    cost_per_answer: null,
  });
  return {
    verdict,
    prompts: 4,
    repeat: 1,
    requests_per_version: 4,
    duration_ms: 5,
    baseline: stats(BASE),
    canary: stats(CANARY),
    checks: [],
    worst: [],
    summary:
      verdict === 'pass'
        ? 'all passed'
        : 'expectation_pass_rate 25.0% is not at most 5.0 points below the baseline',
  };
}

describe('the pre-traffic evaluation in the engine', () => {
  it('a failed evaluation ends the run before any weight change: rejected, exit 3, no PATCH', async () => {
    const h = withEvaluation();
    let asked = 0;
    const result = await h.run({
      preTraffic: async () => {
        asked++;
        // The route exists at baseline 100% and the canary holds nothing while it runs.
        expect(h.relay.weightOf(ROUTE, CANARY)).toBe(0);
        return report('fail');
      },
    });
    expect(asked).toBe(1);
    expect(result).toMatchObject({
      outcome: 'rejected',
      exitCode: ExitCode.RolledBack,
      cause: 'evaluation',
      stage: null,
    });
    expect(result.summary).toMatch(
      /^the pre-traffic evaluation failed: .*; no traffic was moved \(baseline claude-v1 100%\)$/,
    );
    expect(h.relay.patches).toEqual([]);
    expect(h.of('stage_started')).toEqual([]);
    expect(h.events.at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'rejected', exitCode: 3 });
  });

  it('a passing evaluation lets the stages run as planned', async () => {
    const h = withEvaluation();
    const result = await h.run({ preTraffic: async () => report('pass') });
    expect(result.outcome).toBe('promoted');
    expect(h.relay.patches.length).toBeGreaterThan(0);
  });

  it('--skip-evaluation moves traffic without it, and says so in an event (the journal keeps events)', async () => {
    const h = withEvaluation();
    const result = await h.run(
      {
        preTraffic: async () => {
          throw new Error('must not run');
        },
      },
      { skipEvaluation: true },
    );
    expect(result.outcome).toBe('promoted');
    expect(h.of('prompt_eval_skipped')).toEqual([
      expect.objectContaining({ reason: 'flag', detail: expect.stringContaining('--skip-evaluation') }),
    ]);
  });

  it('is skipped when the run continues where traffic has already moved', async () => {
    const h = withEvaluation();
    h.relay.addVersion(BASE);
    h.relay.addVersion(CANARY);
    h.relay.addRoute(ROUTE, [
      { version_tag: BASE, weight: 50 },
      { version_tag: CANARY, weight: 50 },
    ]);
    const result = await h.run({ preTraffic: async () => report('fail') }, { startStage: 2 });
    expect(result.outcome).toBe('promoted');
    expect(h.of('prompt_eval_skipped')[0]).toMatchObject({ reason: 'resumed' });
  });

  it('an error in the evaluation (a relay that ignores the pin) aborts with traffic unchanged', async () => {
    const h = withEvaluation();
    const { PinError } = await import('../../src/evaluation/run.js');
    const result = await h.run({
      preTraffic: async () => {
        throw new PinError(
          'the relay answered a request pinned to the canary claude-v2 with version claude-v1',
        );
      },
    });
    expect(result).toMatchObject({ outcome: 'aborted', exitCode: ExitCode.Aborted, cause: 'evaluation' });
    expect(result.summary).toMatch(/^the pre-traffic evaluation stopped: .*ignores|traffic unchanged/);
    expect(result.summary).toContain('traffic unchanged');
    expect(result.next).toContain('X-Relay-Version');
    expect(h.relay.patches).toEqual([]);
  });
});
