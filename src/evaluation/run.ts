/**
 * Runs a prompt set against both versions through the data plane and judges the answers. Pure
 * apart from its ports (the data plane, the judge command, a monotonic `now`), so tests drive it
 * with a fake relay.
 *
 * - Requests to the two versions are interleaved (baseline and canary of the same prompt one
 *   after the other) so a slow minute of the relay hits both alike.
 * - No retries: a failed answer is what a user would have seen, and success_rate counts it.
 * - A relay that cannot be pinned (an answer served by another version, or without the
 *   `X-Relay-Version` header) stops the evaluation: judging the wrong version is worse than none.
 * - 401/403/404/405 from the data plane are not a model's failure: they stop it too.
 */

import type { EvaluationConfig } from '../domain/plan.js';
import { CanaryError, ExitCode } from '../errors.js';
import { compileExpectations } from './expectations.js';
import { agreement } from './similarity.js';
import type {
  CaseResult,
  ChatAnswer,
  DataPlanePort,
  EvaluationReport,
  JudgePort,
  PromptCase,
  Role,
} from './types.js';
import { buildReport } from './verdict.js';

export interface RunEvaluationInput {
  config: EvaluationConfig;
  /** Already sampled. */
  prompts: PromptCase[];
  route: string;
  baselineTag: string;
  canaryTag: string;
  dataPlane: DataPlanePort;
  judge?: JudgePort | undefined;
  now: () => number;
  signal?: AbortSignal | undefined;
  /** Called after each answer; `done` counts requests to both versions. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** The relay served (or may have served) another version than the one asked for. */
export class PinError extends CanaryError {
  constructor(message: string) {
    super(message, ExitCode.Aborted, {
      hint: 'the relay must honour the X-Relay-Version header (relay-api.md, POST /chat/completions); without it, run with --skip-evaluation or remove evaluation: from the plan',
    });
  }
}

/** Runs `tasks` with at most `limit` in flight; stops starting new ones once `signal` aborts. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number, signal?: AbortSignal): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < tasks.length && !failure && !signal?.aborted) {
      const i = next++;
      try {
        results[i] = await (tasks[i] as () => Promise<T>)();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  if (signal?.aborted) throw signal.reason;
  if (failure) throw failure.error;
  return results;
}

function checkPin(answer: ChatAnswer, version: string, role: Role): void {
  if (answer.status < 200 || answer.status >= 300) return;
  if (answer.servedBy === version) return;
  throw new PinError(
    answer.servedBy === undefined
      ? `the relay answered a request pinned to the ${role} ${version} without an X-Relay-Version header, so canary cannot tell which version answered`
      : `the relay answered a request pinned to the ${role} ${version} with version ${answer.servedBy} (it ignores the pin)`,
  );
}

function checkReachable(answer: ChatAnswer, version: string): void {
  if (![401, 403, 404, 405].includes(answer.status)) return;
  const what =
    answer.status === 404
      ? `the relay has no data plane at POST /chat/completions, or does not know version ${version}`
      : answer.status === 405
        ? 'the relay does not accept POST /chat/completions'
        : 'the relay refused the API key on its data plane';
  throw new CanaryError(
    `${what} (HTTP ${answer.status}${answer.error ? `: ${answer.error}` : ''})`,
    ExitCode.Aborted,
    { hint: 'run with --skip-evaluation to roll out without the pre-traffic evaluation' },
  );
}

export async function runEvaluation(input: RunEvaluationInput): Promise<EvaluationReport> {
  const { config, prompts } = input;
  const started = input.now();
  const cases = prompts.flatMap((prompt) =>
    Array.from({ length: config.repeat }, (_, repeat) => ({ prompt, repeat })),
  );
  const answers = await askAll(input, cases);
  const results: CaseResult[] = cases.map(({ prompt, repeat }, i) =>
    caseResult(prompt, repeat, answers[2 * i] as ChatAnswer, answers[2 * i + 1] as ChatAnswer),
  );
  await judgeAll(input, results);
  return buildReport({
    results,
    baselineTag: input.baselineTag,
    canaryTag: input.canaryTag,
    prompts: prompts.length,
    repeat: config.repeat,
    durationMs: Math.max(0, input.now() - started),
    rules: config.rules,
    explicit: new Set(config.explicit),
    showWorst: config.showWorst,
  });
}

/** Every case to both versions, pinned, `concurrency` at a time: baseline then canary answers, per case. */
async function askAll(
  input: RunEvaluationInput,
  cases: { prompt: PromptCase; repeat: number }[],
): Promise<ChatAnswer[]> {
  const { config, signal } = input;
  const total = cases.length * 2;
  let done = 0;
  const ask = (prompt: PromptCase, role: Role) => async (): Promise<ChatAnswer> => {
    const version = role === 'baseline' ? input.baselineTag : input.canaryTag;
    const request = { max_tokens: config.maxTokens, ...prompt.request };
    const answer = await input.dataPlane.complete({
      version,
      route: input.route,
      request,
      timeoutMs: config.timeoutMs,
      stream: config.stream,
      signal,
    });
    if (signal?.aborted) throw signal.reason;
    checkReachable(answer, version);
    checkPin(answer, version, role);
    done++;
    input.onProgress?.(done, total);
    return answer;
  };
  const tasks = cases.flatMap(({ prompt }) => [ask(prompt, 'baseline'), ask(prompt, 'canary')]);
  return pool(tasks, config.concurrency, signal);
}

/** One case's answers with what they show: each one's failed expectations, and their agreement. */
function caseResult(
  prompt: PromptCase,
  repeat: number,
  baseline: ChatAnswer,
  canary: ChatAnswer,
): CaseResult {
  const expectations = prompt.expect ? compileExpectations(prompt.expect) : undefined;
  const failuresOf = (a: ChatAnswer) =>
    expectations && a.content !== null && a.status >= 200 && a.status < 300
      ? expectations.check(a.content, a.completionTokens)
      : undefined;
  const bothAnswered =
    baseline.content !== null && canary.content !== null && baseline.status < 300 && canary.status < 300;
  return {
    prompt,
    repeat,
    baseline,
    canary,
    baselineFailures: failuresOf(baseline),
    canaryFailures: failuresOf(canary),
    agreement: bothAnswered ? agreement(baseline.content as string, canary.content as string) : null,
    judgeScore: null,
  };
}

/** The judge command's score for every case both versions answered, when the plan has a judge. */
async function judgeAll(input: RunEvaluationInput, results: CaseResult[]): Promise<void> {
  const { config, signal } = input;
  const judge = input.judge;
  if (!judge || !config.judge) return;
  const judged = results.filter((r) => r.agreement !== null);
  await pool(
    judged.map((r) => async () => {
      r.judgeScore = await judge({
        prompt: r.prompt,
        baseline: r.baseline.content as string,
        canary: r.canary.content as string,
        repeat: r.repeat,
        signal,
      });
    }),
    config.judge.concurrency,
    signal,
  );
}
