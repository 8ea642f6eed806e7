/**
 * The engine's face: what a caller hands `runRollout` (the clock and the ports) and what it
 * gets back. The command layer, the terminal, the control channel and the check runner
 * speak to the engine in these words only.
 */
import type { Evaluation } from '../analysis/types.js';
import type { Clock } from '../clock.js';
import type { CustomMetricsPort } from '../custom-metrics/types.js';
import type { StageCheck } from '../domain/plan.js';
import type { MetricsSource, RelayPort, RouteRule } from '../domain/relay.js';
import type { EvaluationReport } from '../evaluation/types.js';
import type { EmitFn, Outcome, RollbackCause, StageCheckResult } from './events.js';

export type GateDecision = 'promote' | 'rollback' | 'hold';

/**
 * What a person at the terminal can ask of a running rollout (keys `p`, `h`, `r`, `q`):
 * - `promote`: end this stage's bake now; the stage is still left only on a passing evaluation
 *   (and a pause stage counts as approved);
 * - `hold` / `release`: stay at this stage (analysis and rollback-on-failure carry on) until released;
 * - `rollback`: roll back now (outcome rolled_back, cause operator, exit 3 like a gate's rollback);
 * - `quit`: stop, leaving traffic where it is (outcome interrupted, exit 130).
 */
export type OperatorCommand = 'promote' | 'hold' | 'release' | 'rollback' | 'quit';

/**
 * A command with its context, as the control channel (`canary promote|pause|resume|abort` from
 * another shell, src/control/) sends it: who asked and why go into the rollback's reason;
 * `full` on a promote also ends every later stage's bake at its first passing check (the
 * checks still decide) and answers later gates.
 */
export interface OperatorRequest {
  command: OperatorCommand;
  full?: boolean | undefined;
  by?: string | undefined;
  reason?: string | undefined;
}

export interface OperatorControls {
  /**
   * The next command. The engine keeps at most one call outstanding and aborts `signal` when
   * it stops listening (the run finished); a rejected call means no more commands.
   */
  next(signal: AbortSignal): Promise<OperatorCommand | OperatorRequest>;
}

export interface GateContext {
  /** 0-based stage index, as in events. */
  stage: number;
  stageCount: number;
  weight: number;
  /** The passing evaluation that opened the gate. */
  evaluation: Evaluation;
  /** Aborted when the engine no longer wants an answer (a check failed, or the run was interrupted). */
  signal: AbortSignal;
}

/** What a caller puts in `AbortController.abort(reason)` to say how to stop. */
export interface RolloutAbortReason {
  action: 'rollback' | 'leave';
  cause: 'interrupt' | 'timeout';
  /** Exit code to report for an interrupt (130 for SIGINT, 143 for SIGTERM); timeouts exit 5. */
  exitCode?: number;
  /** What happened, for the rollback's reason: `SIGTERM received`, `chosen in the Ctrl-C menu`. */
  why?: string;
}

export interface RolloutDeps {
  clock: Clock;
  relay: RelayPort;
  /** Where metrics come from; the relay by default. */
  metrics?: MetricsSource | undefined;
  emit: EmitFn;
  signal?: AbortSignal | undefined;
  /** Commands from a person at the terminal; absent when nobody can send any. */
  controls?: OperatorControls | undefined;
  /** Required when the run reaches a `pause: true` stage. */
  gate?: ((ctx: GateContext) => Promise<GateDecision>) | undefined;
  /** Relay base URL, shown in events and in the manual rollback command. */
  relayUrl?: string | undefined;
  /** Env var holding the key, named in the manual rollback command. */
  apiKeyEnv?: string | undefined;
  /** How to name the plan in suggested commands (default: plan.file). */
  planRef?: string | undefined;
  /**
   * Runs a stage's `checks:` commands (the plan's top-level ones, then the stage's own) once it
   * may be left; any `fail` rolls back (cause health). The runner (src/checks/runner.ts) does
   * the I/O so the engine stays pure. Required when the plan has checks.
   */
  stageChecks?: ((ctx: StageChecksContext) => Promise<StageCheckResult[]>) | undefined;
  /**
   * Reads `analysis.metrics:` (src/custom-metrics/reader.ts); required when the plan has some.
   * Rejects only when a metric that can fail a check could not be read.
   */
  customMetrics?: CustomMetricsPort | undefined;
  /**
   * Runs the plan's pre-traffic `evaluation:` (src/checks/pre-traffic.ts) and emits its events;
   * required when the plan has one and the run starts before any traffic moved.
   */
  preTraffic?: ((ctx: PreTrafficContext) => Promise<EvaluationReport>) | undefined;
}

export interface PreTrafficContext {
  emit: EmitFn;
  signal: AbortSignal | undefined;
}

export interface StageChecksContext {
  /** 0-based stage index, as in events. */
  stage: number;
  stageCount: number;
  weight: number;
  checks: StageCheck[];
  /** Aborted when the run is interrupted or times out: the runner kills what it started. */
  signal: AbortSignal | undefined;
}

export interface RolloutOptions {
  /** 1-based stage to start at; the route must be at the previous stage's weights or this one's. */
  startStage?: number | undefined;
  /** 1-based stage after whose bake the run stops, holding traffic there. */
  untilStage?: number | undefined;
  /** `--skip-evaluation`: move traffic without the plan's pre-traffic evaluation (journaled). */
  skipEvaluation?: boolean | undefined;
}

export type FinishCause =
  | RollbackCause
  | 'drift'
  | 'relay_error'
  | 'gate_error'
  | 'gate_hold'
  | 'until_stage'
  | 'evaluation';

export interface RolloutResult {
  outcome: Outcome;
  exitCode: number;
  /** The route's rules as last confirmed (or as found, on drift); null when uncertain. */
  traffic: RouteRule[] | null;
  summary: string;
  next?: string | undefined;
  cause?: FinishCause | undefined;
  /** 0-based index of the furthest stage whose weights were set, or null if none was. */
  stage: number | null;
}
