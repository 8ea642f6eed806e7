/**
 * The edge of the pre-traffic evaluation: wires the HTTP data plane and the judge command to the
 * pure runner (src/evaluation/run.ts) and turns its course into events. `canary rollout` builds
 * one with `createPreTraffic` and hands it to the engine as `deps.preTraffic`, beside the stage
 * checks' runner (./runner.ts): both are gates the engine calls through a port, doing the I/O
 * the engine may not, so they stand above it and the evaluation's pure parts below it.
 */

import type { EvaluationConfig } from '../domain/plan.js';
import { createHttpDataPlane } from '../evaluation/data-plane.js';
import { createJudge } from '../evaluation/judge.js';
import { redactRows } from '../evaluation/per-prompt.js';
import { samplePrompts } from '../evaluation/prompts.js';
import { runEvaluation } from '../evaluation/run.js';
import type { DataPlanePort, EvaluationReport, JudgePort, PromptCase } from '../evaluation/types.js';
import type { PreTrafficContext } from '../rollout/engine.js';
import { checkEnv } from './runner.js';

export interface PreTrafficOptions {
  config: EvaluationConfig;
  /** Every prompt of the plan's sets, already read (loadPrompts). */
  prompts: PromptCase[];
  route: string;
  baselineTag: string;
  canaryTag: string;
  /** Used instead of HTTP when given (tests). */
  dataPlane?: DataPlanePort | undefined;
  judge?: JudgePort | undefined;
  /** For the HTTP data plane. */
  relay?: { baseUrl: string; apiKey: string } | undefined;
  /** The plan's folder: the judge runs there. */
  cwd: string;
  env: Record<string, string | undefined>;
  /** Env var names never passed to the judge (the API key's, webhook URLs'). */
  withhold: string[];
  redact: (text: string) => string;
  now?: () => number;
  /** Wall-clock stamps for events. */
  clock: { now(): number };
}

/** Progress events at most every quarter of the requests, so logs and NDJSON stay short. */
const PROGRESS_STEP = 0.25;

export function createPreTraffic(
  options: PreTrafficOptions,
): (ctx: PreTrafficContext) => Promise<EvaluationReport> {
  return async (ctx) => {
    const { config } = options;
    const prompts = samplePrompts(options.prompts, config.sample);
    const http =
      options.dataPlane === undefined && options.relay
        ? createHttpDataPlane({ ...options.relay, connections: config.concurrency })
        : undefined;
    const dataPlane = options.dataPlane ?? http;
    if (!dataPlane) throw new Error('createPreTraffic: no data plane');
    const judge =
      options.judge ??
      (config.judge
        ? createJudge({
            config: config.judge,
            cwd: options.cwd,
            env: {
              ...checkEnv(
                {
                  cwd: options.cwd,
                  env: options.env,
                  route: options.route,
                  baselineTag: options.baselineTag,
                  canaryTag: options.canaryTag,
                  withhold: options.withhold,
                  redact: options.redact,
                },
                { stage: -1, weight: 0 },
              ),
              CANARY_STAGE: 'evaluation',
            },
            redact: options.redact,
          })
        : undefined);
    ctx.emit({
      type: 'prompt_eval_started',
      at: options.clock.now(),
      baseline: options.baselineTag,
      canary: options.canaryTag,
      prompts: prompts.length,
      repeat: config.repeat,
      requests_per_version: prompts.length * config.repeat,
      concurrency: config.concurrency,
      judge: judge !== undefined,
    });
    let reported = 0;
    try {
      const report = await runEvaluation({
        config,
        prompts,
        route: options.route,
        baselineTag: options.baselineTag,
        canaryTag: options.canaryTag,
        dataPlane,
        judge,
        now: options.now ?? (() => performance.now()),
        signal: ctx.signal,
        onProgress(done, total) {
          // The last one is left out: the report follows it at once.
          if (done >= total || done - reported < Math.max(1, Math.ceil(total * PROGRESS_STEP))) return;
          reported = done;
          ctx.emit({ type: 'prompt_eval_progress', at: options.clock.now(), done, total });
        },
      });
      ctx.emit({
        type: 'prompt_eval_finished',
        at: options.clock.now(),
        report: redactReport(report, options.redact),
      });
      return report;
    } finally {
      await http?.close().catch(() => {});
    }
  };
}

/** Answers may echo anything (a prompt holding a token): the report goes out through redact. */
function redactReport(report: EvaluationReport, redact: (text: string) => string): EvaluationReport {
  return {
    ...report,
    worst: report.worst.map((w) => ({
      ...w,
      prompt: redact(w.prompt),
      baseline: redact(w.baseline),
      canary: redact(w.canary),
    })),
    ...(report.per_prompt && { per_prompt: redactRows(report.per_prompt, redact) }),
  };
}
