import { describe, expect, it } from 'vitest';
import type { EvaluationConfig } from '../../src/domain/plan.js';
import { ExitCode } from '../../src/errors.js';
import { PinError, runEvaluation } from '../../src/evaluation/run.js';
import type { ChatAnswer, ChatCall, DataPlanePort, PromptCase } from '../../src/evaluation/types.js';
import { DEFAULT_EVAL_RULES } from '../../src/evaluation/verdict.js';

const config = (over: Partial<EvaluationConfig> = {}): EvaluationConfig => ({
  prompts: [],
  repeat: 1,
  concurrency: 3,
  timeoutMs: 1000,
  maxTokens: 100,
  stream: true,
  rules: { ...DEFAULT_EVAL_RULES },
  explicit: [],
  showWorst: 2,
  ...over,
});

const prompts: PromptCase[] = Array.from({ length: 6 }, (_, i) => ({
  id: `p${i}`,
  file: 'set.jsonl',
  line: i + 1,
  request: { messages: [{ role: 'user', content: `question ${i} about refunds` }] },
  expect: { contains: ['refund'] },
}));

function answer(over: Partial<ChatAnswer>): ChatAnswer {
  return {
    status: 200,
    servedBy: undefined,
    content: 'the refund is issued in 5 days',
    completionTokens: 8,
    promptTokens: 5,
    cost: 0.001,
    latencyMs: 100,
    ttftMs: 20,
    finishReason: 'stop',
    ...over,
  };
}

/** Answers by version; counts the requests in flight at once. */
function fakePlane(byVersion: (call: ChatCall, n: number) => Partial<ChatAnswer>) {
  let inFlight = 0;
  let peak = 0;
  let n = 0;
  const calls: ChatCall[] = [];
  const plane: DataPlanePort = {
    async complete(call) {
      calls.push(call);
      inFlight++;
      peak = Math.max(peak, inFlight);
      const mine = n++;
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return answer({ servedBy: call.version, ...byVersion(call, mine) });
    },
  };
  return { plane, calls, peak: () => peak };
}

const base = { route: 'r', baselineTag: 'v1', canaryTag: 'v2', now: () => 0 };

describe('runEvaluation', () => {
  it('passes a canary that answers like the baseline, pinning every request and bounding concurrency', async () => {
    const { plane, calls, peak } = fakePlane(() => ({}));
    const report = await runEvaluation({ ...base, config: config({ repeat: 2 }), prompts, dataPlane: plane });
    expect(report.verdict).toBe('pass');
    expect(report.requests_per_version).toBe(12);
    expect(calls.filter((c) => c.version === 'v1')).toHaveLength(12);
    expect(calls.filter((c) => c.version === 'v2')).toHaveLength(12);
    expect(calls.every((c) => c.route === 'r' && c.request.max_tokens === 100 && c.timeoutMs === 1000)).toBe(
      true,
    );
    expect(peak()).toBeLessThanOrEqual(3);
    expect(peak()).toBeGreaterThan(1);
    expect(report.canary.agreement).toBe(1);
    expect(report.canary.cost_per_answer).toBeCloseTo(0.001);
  });

  it('fails a canary that breaks the expectations, and shows the worst prompts side by side', async () => {
    const { plane } = fakePlane((call, n) =>
      call.version === 'v2' && n % 4 === 1 ? { content: 'I cannot help with that.' } : {},
    );
    const report = await runEvaluation({ ...base, config: config(), prompts, dataPlane: plane });
    expect(report.verdict).toBe('fail');
    const failed = report.checks.find((c) => c.id === 'expectation_pass_rate.max_decrease');
    expect(failed?.status).toBe('fail');
    expect(report.summary).toContain("below the baseline's 100.0%");
    expect(report.worst).toHaveLength(2);
    expect(report.worst[0]).toMatchObject({
      canary: 'I cannot help with that.',
      baseline: 'the refund is issued in 5 days',
    });
    expect(report.worst[0]?.why).toContain('does not contain "refund"');
  });

  it('counts a canary that errors against success_rate', async () => {
    const { plane } = fakePlane((call) =>
      call.version === 'v2'
        ? { status: 502, content: null, error: 'upstream failed', errorType: 'upstream_error' }
        : {},
    );
    const report = await runEvaluation({ ...base, config: config(), prompts, dataPlane: plane });
    expect(report.canary.success_rate).toBe(0);
    expect(report.checks.find((c) => c.id === 'success_rate.min')?.status).toBe('fail');
    expect(report.worst[0]?.canary).toBe('(no answer: upstream failed)');
  });

  it('stops with exit 5 when the relay serves another version than the pinned one', async () => {
    const { plane } = fakePlane((call) => (call.version === 'v2' ? { servedBy: 'v1' } : {}));
    const run = runEvaluation({ ...base, config: config(), prompts, dataPlane: plane });
    await expect(run).rejects.toBeInstanceOf(PinError);
    await expect(run).rejects.toMatchObject({
      exitCode: ExitCode.Aborted,
      message: expect.stringContaining('ignores the pin'),
    });
  });

  it('stops when the relay sends no X-Relay-Version header: it cannot tell who answered', async () => {
    const { plane } = fakePlane(() => ({ servedBy: undefined }));
    const plain: DataPlanePort = {
      complete: async (c) => ({ ...(await plane.complete(c)), servedBy: undefined }),
    };
    await expect(runEvaluation({ ...base, config: config(), prompts, dataPlane: plain })).rejects.toThrow(
      /without an X-Relay-Version header/,
    );
  });

  it('stops (not a model failure) when the relay has no data plane', async () => {
    const { plane } = fakePlane(() => ({ status: 404, content: null, error: 'no endpoint' }));
    await expect(
      runEvaluation({ ...base, config: config(), prompts, dataPlane: plane }),
    ).rejects.toMatchObject({
      exitCode: ExitCode.Aborted,
      message: expect.stringContaining('no data plane'),
    });
  });

  it('fails a rule the plan wrote when there is no data for it, but not a default', async () => {
    const { plane } = fakePlane(() => ({ ttftMs: null, cost: null }));
    const explicit = await runEvaluation({
      ...base,
      config: config({ rules: { ttft_p99_ms: { max: 500 } }, explicit: ['ttft_p99_ms'] }),
      prompts,
      dataPlane: plane,
    });
    expect(explicit.verdict).toBe('fail');
    expect(explicit.checks[0]).toMatchObject({
      status: 'no_data',
      reason: expect.stringContaining('the plan asks for this check'),
    });
  });

  it('holds values against the baseline: ratio, increase, decrease, at the bound exactly', async () => {
    const { plane } = fakePlane((call) => ({
      latencyMs: call.version === 'v2' ? 150 : 100,
      completionTokens: call.version === 'v2' ? 12 : 8,
    }));
    const report = await runEvaluation({
      ...base,
      config: config({
        rules: { latency_p50_ms: { max_ratio: 1.5 }, output_tokens: { max_increase: 3, min_ratio: 1 } },
        explicit: ['latency_p50_ms', 'output_tokens'],
      }),
      prompts,
      dataPlane: plane,
    });
    const status = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
    expect(status).toEqual({
      'latency_p50_ms.max_ratio': 'pass',
      'output_tokens.max_increase': 'fail',
      'output_tokens.min_ratio': 'pass',
    });
  });

  it('asks the judge for each prompt answered by both versions and averages its scores', async () => {
    const { plane } = fakePlane(() => ({}));
    const seen: string[] = [];
    const report = await runEvaluation({
      ...base,
      config: config({
        judge: { run: 'x', timeoutMs: 1000, concurrency: 2 },
        rules: { judge_score: { min: 0.7 } },
        explicit: ['judge_score'],
      }),
      prompts,
      dataPlane: plane,
      judge: async (input) => {
        seen.push(input.prompt.id);
        return input.prompt.id === 'p0' ? 0 : 0.9;
      },
    });
    expect(seen.sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
    expect(report.canary.judge_score).toBeCloseTo(0.75);
    expect(report.verdict).toBe('pass');
  });

  it('rejects with the abort reason and starts nothing more once aborted', async () => {
    const controller = new AbortController();
    const { plane, calls } = fakePlane(() => {
      controller.abort(new Error('stop'));
      return {};
    });
    await expect(
      runEvaluation({
        ...base,
        config: config({ concurrency: 1 }),
        prompts,
        dataPlane: plane,
        signal: controller.signal,
      }),
    ).rejects.toThrow('stop');
    expect(calls).toHaveLength(1);
  });
});
