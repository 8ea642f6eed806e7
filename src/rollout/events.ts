/**
 * What the core reports. Reporters render these and decide nothing; the JSON reporter and the
 * journal write them through the one record writer (src/output/record.ts), which adds `type`,
 * `version` and snake_case keys (docs/events.md). Some older fields here are camelCase; the
 * writer renames them at the edge. New fields: snake_case.
 */
import type { Evaluation } from '../analysis/types.js';
import type { RouteRule } from '../domain/relay.js';
import type { EvaluationReport } from '../evaluation/types.js';

/** `rejected`: the pre-traffic evaluation failed, so no traffic was ever moved (exit 3). */
export type Outcome =
  | 'promoted'
  | 'rolled_back'
  | 'aborted'
  | 'rollback_failed'
  | 'interrupted'
  | 'held'
  | 'rejected';

export type RollbackCause =
  | 'health'
  | 'insufficient_data'
  /** Both versions stayed over a threshold (a shared incident) past analysis.hold_deadline. */
  | 'shared_incident'
  | 'metrics_unavailable'
  /** The relay could not be read or changed while the canary held traffic (exit 5, baseline restored). */
  | 'relay_error'
  | 'operator'
  | 'interrupt'
  | 'timeout'
  | 'request';

/** What one `checks:` command did before a stage was left. */
export interface StageCheckResult {
  name: string;
  status: 'pass' | 'fail';
  /** The command's exit code; null when it was killed (timeout) or could not start. */
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** The last lines of its stdout and stderr, secrets redacted. */
  output: string;
}

/** Who started a rollout and where: names only, never a credential or a link. */
export interface RunBy {
  user: string | null;
  host: string;
  pid: number;
  /** The CI service (ci-info's name), or null at a workstation. */
  ci: string | null;
  /** GitHub Actions: actor, repository, workflow, run id and ref, when set. */
  github?: Record<string, string> | undefined;
}

export interface StageSummary {
  weight: number;
  bakeMs: number;
  pause: boolean;
}

export type RolloutEvent =
  | {
      type: 'rollout_started';
      at: number;
      route: string;
      baseline: string;
      canary: string;
      stages: StageSummary[];
      /** Relay base URL (never contains credentials). */
      relay: string;
      metricsSource: string;
      startStage: number;
      /**
       * Added at the edge (src/journal/run-context.ts), not by the engine: the plan as run, secrets
       * replaced (src/plan/record.ts), and who and where started it. Absent in journals before v2.
       */
      plan?: Record<string, unknown> | undefined;
      run_by?: RunBy | undefined;
    }
  | { type: 'preflight'; at: number; step: string; detail: string }
  | {
      type: 'stage_started';
      at: number;
      stage: number;
      stageCount: number;
      weight: number;
      bakeMs: number;
      pause: boolean;
      rules: RouteRule[];
    }
  | { type: 'weights_set'; at: number; stage: number; rules: RouteRule[]; revision?: number | undefined }
  | {
      type: 'evaluation';
      at: number;
      stage: number;
      evaluation: Evaluation;
      consecutiveFailures: number;
      failureLimit: number;
      bakeElapsedMs: number;
      bakeMs: number;
      nextCheckAt: number;
    }
  | {
      type: 'waiting_for_data';
      at: number;
      stage: number;
      requests: number | null;
      minRequests: number;
      deadlineAt: number;
      /** What is missing, in words (e.g. `canary requests 120/200 in the stage`); absent: requests. */
      needs?: string | undefined;
    }
  | { type: 'metrics_error'; at: number; stage: number; message: string; consecutive: number; limit: number }
  | { type: 'stage_check'; at: number; stage: number; check: StageCheckResult }
  | { type: 'stage_passed'; at: number; stage: number; weight: number }
  | { type: 'paused'; at: number; stage: number; weight: number }
  | {
      type: 'gate_decision';
      at: number;
      stage: number;
      decision: 'promote' | 'rollback' | 'hold';
      by: string;
    }
  | {
      /** A person at the terminal pressed a key (promote, hold, release, roll back, quit). */
      type: 'operator_action';
      at: number;
      stage: number;
      action: 'promote' | 'hold' | 'release' | 'rollback' | 'quit';
      /** What the action does now, in words. */
      detail: string;
    }
  | {
      /**
       * A control command from another shell (`canary promote|pause|resume|abort`, through the
       * control channel, src/control/): who asked and why, journaled before the run acts on it.
       */
      type: 'control_request';
      at: number;
      action: 'promote' | 'pause' | 'resume' | 'abort';
      /** `promote --full`. */
      full?: boolean | undefined;
      reason?: string | undefined;
      user: string;
      host: string;
      pid: number;
    }
  | {
      type: 'rollback_started';
      at: number;
      stage: number;
      cause: RollbackCause;
      reason: string;
      to: RouteRule[];
    }
  | { type: 'rolled_back'; at: number; rules: RouteRule[]; revision?: number | undefined; durationMs: number }
  | { type: 'rollback_failed'; at: number; message: string; manualCommand: string }
  | { type: 'promoted'; at: number; rules: RouteRule[] }
  | { type: 'aborted'; at: number; stage: number; reason: string; rules: RouteRule[] | null }
  | {
      type: 'rollout_finished';
      at: number;
      outcome: Outcome;
      exitCode: number;
      route: string;
      /** The route's weights as canary last confirmed them, or null when unknown. */
      traffic: RouteRule[] | null;
      /** One line: where traffic is and why. */
      summary: string;
      /** What to run next, if anything. */
      next?: string | undefined;
    }
  | { type: 'log'; at: number; level: 'info' | 'warn' | 'error'; message: string }
  | PromptEvalEvent;

/** The pre-traffic evaluation (src/evaluation/); snake_case fields, as every new record has. */
export type PromptEvalEvent =
  | {
      type: 'prompt_eval_started';
      at: number;
      baseline: string;
      canary: string;
      prompts: number;
      repeat: number;
      /** Requests each version gets: prompts × repeat. */
      requests_per_version: number;
      concurrency: number;
      judge: boolean;
    }
  | { type: 'prompt_eval_progress'; at: number; done: number; total: number }
  | { type: 'prompt_eval_finished'; at: number; report: EvaluationReport }
  | {
      type: 'prompt_eval_skipped';
      at: number;
      /** `flag` (--skip-evaluation) or `resumed` (traffic had already moved). */
      reason: 'flag' | 'resumed';
      detail: string;
    };

export type RolloutEventType = RolloutEvent['type'];

/** Receives events synchronously; must never block or throw into the core. */
export type EmitFn = (event: RolloutEvent) => void;
