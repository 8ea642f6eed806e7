/**
 * One rollout's state and the moves every part of the engine shares: emitting, saying where
 * traffic is, stopping with traffic in place, rolling back, and noticing drift. The stage loop
 * (engine.ts), the bake (bake.ts), the gates (gates.ts) and the operator's commands
 * (operator.ts) all work on one `RolloutRun`.
 *
 * A run ends by throwing a `Finish` that carries its result; `execute` in engine.ts catches it once.
 */

import type { Clock } from '../clock.js';
import type { Plan } from '../domain/plan.js';
import type { MetricsSource, Route, RouteRule, VersionMetrics } from '../domain/relay.js';
import { ExitCode } from '../errors.js';
import { formatRules, roundWeight } from '../format.js';
import { sameWeights } from '../relay/compare.js';
import type { EmitFn, Outcome, RollbackCause } from './events.js';
import { RollbackNotConfirmedError, rollbackRoute } from './rollback.js';
import { describeTraffic, planRef, stageLabel } from './summaries.js';
import type {
  FinishCause,
  GateDecision,
  OperatorCommand,
  OperatorRequest,
  RolloutAbortReason,
  RolloutDeps,
  RolloutOptions,
  RolloutResult,
} from './types.js';

/** Unwinds the run with its result; caught once, in `execute`. */
export class Finish {
  constructor(readonly result: RolloutResult) {}
}

/** What ends a wait: the interval's tick, the gate's answer, or an operator's command. */
export type Wake =
  | { kind: 'tick' }
  | { kind: 'gate'; decision: GateDecision }
  | { kind: 'gate_error'; error: unknown }
  | { kind: 'command'; command: OperatorCommand; request: OperatorRequest };

/** A stage's pause gate: not asked yet, asked and waiting, or answered `promote`. */
export interface Gate {
  controller: AbortController;
  state: 'idle' | 'pending' | 'approved';
  promise: Promise<Wake> | null;
}

/** How the caller asked the run to stop; unknown reasons fail safe (rollback, interrupt). */
export function abortReason(signal: AbortSignal | undefined): RolloutAbortReason {
  const reason = signal?.reason as Partial<RolloutAbortReason> | undefined;
  const action = reason?.action === 'leave' ? 'leave' : 'rollback'; // unknown reasons fail safe
  const cause = reason?.cause === 'timeout' ? 'timeout' : 'interrupt';
  const result: RolloutAbortReason = { action, cause };
  if (typeof reason?.exitCode === 'number') result.exitCode = reason.exitCode;
  if (typeof reason?.why === 'string') result.why = reason.why;
  return result;
}

export class RolloutRun {
  readonly metrics: MetricsSource;
  readonly stageCount: number;
  /** What this run last set and confirmed: the reference for drift. */
  confirmed: { rules: RouteRule[]; revision: number | undefined } | null = null;
  /** Furthest stage whose weights this run set (or found in place at start). */
  reached: number | null = null;
  changedWeights = false;
  /**
   * The baseline's pooled metrics from the last stage that had one: at 100 % there is no
   * baseline, and a threshold breach the baseline shared is not the canary's fault.
   */
  referenceBaseline: VersionMetrics | null = null;
  /** The current stage's pause gate (every stage has one; only pause stages ask it). */
  gate: Gate | null = null;
  /** Stages whose checks have run (before a gate opens, or else before the stage counts as passed). */
  readonly checkedStages = new Set<number>();
  /** The outstanding `controls.next()`, kept across waits so no command is lost. */
  command: Promise<Wake> | null = null;
  readonly stopControls = new AbortController();
  /** Held by the operator: no stage is left until released. */
  held = false;
  /** `promote --full`: every later stage leaves at its first passing check, gates included. */
  promoteAll = false;

  constructor(
    readonly plan: Plan,
    readonly deps: RolloutDeps,
    readonly options: RolloutOptions,
  ) {
    this.metrics = deps.metrics ?? deps.relay;
    this.stageCount = plan.stages.length;
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  get signal(): AbortSignal | undefined {
    return this.deps.signal;
  }

  readonly emit: EmitFn = (event) => {
    try {
      this.deps.emit(event);
    } catch {
      // A reporter bug must never stop or steer a rollout.
    }
  };

  stageLabel(index: number): string {
    return stageLabel(index, this.stageCount);
  }

  describeTraffic(rules: RouteRule[] | null): string {
    return describeTraffic(this.plan, rules);
  }

  /** Rules for a stage: canary w, baseline 100 − w, any other tag the route names at 0. */
  stageRules(current: RouteRule[], weight: number): RouteRule[] {
    const { baseline, canary } = this.plan;
    const rules: RouteRule[] = [
      { version_tag: baseline.tag, weight: roundWeight(100 - weight) },
      { version_tag: canary.tag, weight: roundWeight(weight) },
    ];
    for (const r of current) {
      if (r.version_tag !== baseline.tag && r.version_tag !== canary.tag) {
        rules.push({ version_tag: r.version_tag, weight: 0 });
      }
    }
    return rules;
  }

  /** Whether this run holds the canary's traffic (set it, or resumed where it was). */
  get ownsTraffic(): boolean {
    return this.changedWeights || this.reached !== null;
  }

  rollbackHint(): string {
    return `run \`canary rollback ${planRef(this.plan, this.deps.planRef)}\` to restore the baseline`;
  }

  /** The exit code for a stop the caller asked for: the signal's, or 5 for a timeout. */
  interruptExit(reason = abortReason(this.signal)): number {
    if (reason.cause === 'timeout') return ExitCode.Aborted;
    return reason.exitCode ?? ExitCode.Interrupted;
  }

  /** Emits `rollout_finished` and returns the result as the caller sees it. */
  finish(outcome: RolloutResult): RolloutResult {
    let result = outcome;
    const { signal } = this;
    if (result.outcome === 'rolled_back' && signal?.aborted && abortReason(signal).cause === 'interrupt') {
      // A signal that came while a rollback (decided by a check) was under way: the rollback
      // went on to the end, and the exit says the run was also told to stop.
      result = { ...result, exitCode: this.interruptExit() };
    }
    this.emit({
      type: 'rollout_finished',
      at: this.clock.now(),
      outcome: result.outcome,
      exitCode: result.exitCode,
      route: this.plan.route,
      traffic: result.traffic,
      summary: result.summary,
      next: result.next,
    });
    return result;
  }

  /** The result for stopping with traffic where it is. */
  leftInPlace(outcome: Outcome, exitCode: number, why: string, cause: FinishCause): RolloutResult {
    const traffic = this.confirmed?.rules ?? null;
    const where =
      this.reached === null
        ? `traffic unchanged (${this.describeTraffic(traffic)})`
        : `traffic left at ${this.stageLabel(this.reached)} (${this.describeTraffic(traffic)})`;
    return {
      outcome,
      exitCode,
      traffic,
      summary: `${why}; ${where}`,
      next: this.ownsTraffic ? this.rollbackHint() : undefined,
      cause,
      stage: this.reached,
    };
  }

  /** Stops without writing when the route is not what this run last set. */
  checkDrift(route: Route, stage: number, seen = false): void {
    const last = this.confirmed;
    if (!last) return;
    const weightsMoved = !sameWeights(route.route_rules, last.rules);
    const revisionMoved =
      last.revision !== undefined && route.revision !== undefined && route.revision !== last.revision;
    if (!seen && !weightsMoved && !revisionMoved) return;
    const rev = (r: number | undefined) => (r === undefined ? '' : ` (revision ${r})`);
    const when = route.updated_at ? ` at ${route.updated_at}` : '';
    const why =
      `route ${this.plan.route} was changed by someone else${when}: expected ${formatRules(last.rules)}${rev(last.revision)}, ` +
      `found ${formatRules(route.route_rules)}${rev(route.revision)}; stopped without writing anything`;
    this.emit({ type: 'aborted', at: this.clock.now(), stage, reason: why, rules: route.route_rules });
    throw new Finish({
      outcome: 'aborted',
      exitCode: ExitCode.Aborted,
      traffic: route.route_rules,
      summary: `${why}; traffic as found: ${this.describeTraffic(route.route_rules)}`,
      next: `check who changed it; ${this.rollbackHint()}`,
      cause: 'drift',
      stage: this.reached,
    });
  }

  /**
   * Rolls back to the baseline and unwinds with the result. The PATCH goes out first;
   * `announce` (the decisive evaluation) is emitted only after it has been sent.
   */
  async rollback(stage: number, cause: RollbackCause, reason: string, announce?: () => void): Promise<never> {
    const { plan } = this;
    const pending = rollbackRoute({
      relay: this.deps.relay,
      clock: this.clock,
      route: plan.route,
      to: plan.baseline.tag,
      deadlineMs: plan.rollback.deadlineMs,
      knownRules: this.confirmed?.rules,
      baseUrl: this.deps.relayUrl,
      apiKeyEnv: this.deps.apiKeyEnv,
      emit: this.emit,
      stage,
      cause,
      reason,
      onPatchSent: () => {
        announce?.();
        this.gate?.controller.abort();
      },
    });
    try {
      const result = await pending;
      this.confirmed = { rules: result.after, revision: result.revision };
      throw new Finish({
        outcome: 'rolled_back',
        // The canary was not judged bad: the relay failed. 5 tells a pipeline to look at the relay.
        exitCode: cause === 'relay_error' ? ExitCode.Aborted : ExitCode.RolledBack,
        traffic: result.after,
        summary: `rolled back at ${this.stageLabel(stage)}: ${reason}; traffic at ${this.describeTraffic(result.after)}`,
        cause,
        stage: this.reached,
      });
    } catch (error) {
      if (error instanceof RollbackNotConfirmedError) {
        throw new Finish({
          outcome: 'rollback_failed',
          exitCode: ExitCode.RollbackFailed,
          traffic: null,
          summary: `rollback NOT confirmed (${reason}): ${error.message}`,
          next: `restore the baseline by hand: ${error.manualCommand}`,
          cause,
          stage: this.reached,
        });
      }
      throw error;
    }
  }
}
