/**
 * The stage engine: moves a route's weights stage by stage, judges each stage's metrics,
 * and rolls back the moment the checks say so. Pure: it talks to the world only through
 * the clock, the relay port, the metrics source, the gate and `emit`, so a day-long
 * rollout runs in milliseconds under a fake clock.
 *
 * Decisions worth knowing (each one errs towards the baseline):
 * - Metrics windows start no earlier than the stage did, so a stage is judged on traffic
 *   at its own weight, not diluted by the previous stage's.
 * - A pass resets the consecutive-failure count; "no data" neither counts nor resets it, so
 *   a lull in traffic cannot launder a failing canary.
 * - A failed metrics read is "no data" too: the latest verdict is forgotten, the stage
 *   cannot be left on a stale pass, and the data deadline keeps running (also under the
 *   `hold` policy, which only spares the rollback that `maxMetricErrors` would trigger).
 * - At a 100 % stage the baseline serves nothing, so baseline comparisons are skipped and
 *   thresholds alone decide.
 * - While a pause gate is open the data deadline is suspended (someone is deciding); a
 *   failed check still rolls back and cancels the gate.
 */
import { evaluate, verdictReason } from '../analysis/evaluate.js';
import { errorBudgetFor } from '../analysis/sequential.js';
import type { Evaluation } from '../analysis/types.js';
import type { Clock } from '../clock.js';
import { customReason, judgeCustom, withCustomChecks } from '../custom-metrics/judge.js';
import type { CustomMetricsPort, CustomValues } from '../custom-metrics/types.js';
import { CanaryError, ExitCode, RelayError } from '../errors.js';
import type { EvaluationReport } from '../evaluation/types.js';
import { formatDuration } from '../plan/duration.js';
import type { AnalysisConfig, Plan, StageCheck, StagePlan } from '../plan/types.js';
import { sameWeights, weightOf } from '../relay/compare.js';
import type { MetricsSource, RelayPort, Route, RouteRule, VersionMetrics } from '../relay/types.js';
import { changeDeadlineMs, preflightDeadlineMs, readDeadlineMs } from './deadlines.js';
import type { EmitFn, Outcome, RollbackCause, StageCheckResult } from './events.js';
import { RollbackNotConfirmedError, rollbackRoute } from './rollback.js';
import { changeWeights } from './stage-writes.js';

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

/** Ends a wait's sleep once the wait is over (nobody sees it: the sleep's rejection is ignored). */
const WAIT_OVER = Object.freeze({ reason: 'wait over' });

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
   * Runs the plan's pre-traffic `evaluation:` (src/evaluation/stage.ts) and emits its events;
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

/** Unwinds the run with its result; caught once, in `execute`. */
class Finish {
  constructor(readonly result: RolloutResult) {}
}

const WEIGHT_TOLERANCE = 0.001;

function roundWeight(w: number): number {
  return Math.round(w * 100) / 100;
}

function pct(w: number): string {
  return `${roundWeight(w)} %`;
}

function formatRules(rules: RouteRule[]): string {
  return rules.map((r) => `${r.version_tag} ${pct(r.weight)}`).join(', ');
}

function abortReason(signal: AbortSignal | undefined): RolloutAbortReason {
  const reason = signal?.reason as Partial<RolloutAbortReason> | undefined;
  const action = reason?.action === 'leave' ? 'leave' : 'rollback'; // unknown reasons fail safe
  const cause = reason?.cause === 'timeout' ? 'timeout' : 'interrupt';
  const result: RolloutAbortReason = { action, cause };
  if (typeof reason?.exitCode === 'number') result.exitCode = reason.exitCode;
  if (typeof reason?.why === 'string') result.why = reason.why;
  return result;
}

/** Why an evaluation came out as it did, the built-in checks' reasons and then the custom ones'. */
function reasonOf(evaluation: Evaluation): string {
  const custom = customReason(evaluation);
  const builtIn = verdictReason(evaluation);
  if (!custom) return builtIn;
  const ownDeciding = evaluation.checks.some((c) => c.status === evaluation.verdict);
  return ownDeciding ? `${builtIn}; ${custom}` : custom;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type Wake =
  | { kind: 'tick' }
  | { kind: 'gate'; decision: GateDecision }
  | { kind: 'gate_error'; error: unknown }
  | { kind: 'command'; command: OperatorCommand; request: OperatorRequest };

interface Gate {
  controller: AbortController;
  state: 'idle' | 'pending' | 'approved';
  promise: Promise<Wake> | null;
}

class RolloutRun {
  private readonly metrics: MetricsSource;
  private readonly stageCount: number;
  /** What this run last set and confirmed: the reference for drift. */
  private confirmed: { rules: RouteRule[]; revision: number | undefined } | null = null;
  /** Furthest stage whose weights this run set (or found in place at start). */
  private reached: number | null = null;
  private changedWeights = false;
  /**
   * The baseline's pooled metrics from the last stage that had one: at 100 % there is no
   * baseline, and a threshold breach the baseline shared is not the canary's fault.
   */
  private referenceBaseline: VersionMetrics | null = null;
  private gate: Gate | null = null;
  /** Stages whose checks have run (before a gate opens, or else before the stage counts as passed). */
  private readonly checkedStages = new Set<number>();
  /** The outstanding `controls.next()`, kept across waits so no command is lost. */
  private command: Promise<Wake> | null = null;
  private readonly stopControls = new AbortController();
  /** Held by the operator: no stage is left until released. */
  private held = false;
  /** `promote --full`: every later stage leaves at its first passing check, gates included. */
  private promoteAll = false;

  constructor(
    private readonly plan: Plan,
    private readonly deps: RolloutDeps,
    private readonly options: RolloutOptions,
  ) {
    this.metrics = deps.metrics ?? deps.relay;
    this.stageCount = plan.stages.length;
  }

  private get clock(): Clock {
    return this.deps.clock;
  }

  private emit: EmitFn = (event) => {
    try {
      this.deps.emit(event);
    } catch {
      // A reporter bug must never stop or steer a rollout.
    }
  };

  private get planRef(): string {
    const ref = this.deps.planRef ?? this.plan.file;
    return /^[\w./@:+-]+$/.test(ref) ? ref : `'${ref.replace(/'/g, `'\\''`)}'`;
  }

  private stageLabel(index: number): string {
    return `stage ${index + 1}/${this.stageCount}`;
  }

  /** Where traffic is, in words: `baseline v1 100 %`, `canary 25 % / baseline 75 %`. */
  private describeTraffic(rules: RouteRule[] | null): string {
    if (rules === null) return 'traffic state unknown';
    const b = this.plan.baseline.tag;
    const c = this.plan.canary.tag;
    const others = rules.filter((r) => r.version_tag !== b && r.version_tag !== c && r.weight > 0);
    const bw = weightOf(rules, b);
    const cw = weightOf(rules, c);
    let text: string;
    if (others.length === 0 && Math.abs(bw - 100) <= WEIGHT_TOLERANCE) text = `baseline ${b} 100 %`;
    else if (others.length === 0 && Math.abs(cw - 100) <= WEIGHT_TOLERANCE) text = `canary ${c} 100 %`;
    else text = `canary ${pct(cw)} / baseline ${pct(bw)}`;
    if (others.length > 0) text += `, ${formatRules(others)}`;
    return text;
  }

  /** Rules for a stage: canary w, baseline 100 − w, any other tag the route names at 0. */
  private stageRules(current: RouteRule[], weight: number): RouteRule[] {
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

  private finish(outcome: RolloutResult): RolloutResult {
    let result = outcome;
    const { signal } = this.deps;
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

  private rollbackHint(): string {
    return `run \`canary rollback ${this.planRef}\` to restore the baseline`;
  }

  /** The result for stopping with traffic where it is. */
  private leftInPlace(outcome: Outcome, exitCode: number, why: string, cause: FinishCause): RolloutResult {
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
      next: this.changedWeights || this.reached !== null ? this.rollbackHint() : undefined,
      cause,
      stage: this.reached,
    };
  }

  async execute(): Promise<RolloutResult> {
    const { plan, options } = this;
    const startIndex = (options.startStage ?? 1) - 1;
    const untilIndex = options.untilStage === undefined ? this.stageCount - 1 : options.untilStage - 1;
    if (!Number.isInteger(startIndex) || startIndex < 0 || startIndex >= this.stageCount) {
      throw new CanaryError(
        `start stage ${options.startStage} is not a stage of this plan (1–${this.stageCount}).`,
        ExitCode.BadInput,
      );
    }
    if (!Number.isInteger(untilIndex) || untilIndex < startIndex || untilIndex >= this.stageCount) {
      throw new CanaryError(
        `until stage ${options.untilStage} is not a stage from ${startIndex + 1} to ${this.stageCount}.`,
        ExitCode.BadInput,
      );
    }
    // A gate at the until-stage is never reached (the run stops before it), so it needs no answerer.
    const gated = plan.stages.some((s) => s.pause && s.index >= startIndex && s.index < untilIndex);
    const hasChecks = (plan.checks?.length ?? 0) > 0 || plan.stages.some((s) => (s.checks?.length ?? 0) > 0);
    if (hasChecks && !this.deps.stageChecks) {
      throw new CanaryError(
        'this plan has checks but the engine was given no runner for them.',
        ExitCode.Internal,
      );
    }
    if ((plan.analysis.customMetrics?.length ?? 0) > 0 && !this.deps.customMetrics) {
      throw new CanaryError(
        'this plan has analysis.metrics but the engine was given no reader for them.',
        ExitCode.Internal,
      );
    }
    if (plan.evaluation && !this.options.skipEvaluation && !this.deps.preTraffic) {
      throw new CanaryError(
        'this plan has an evaluation but the engine was given no runner for it.',
        ExitCode.Internal,
      );
    }
    if (gated && !this.deps.gate) {
      throw new CanaryError(
        'this plan has a pause: true stage but the engine was given no gate to ask.',
        ExitCode.Internal,
      );
    }

    this.emit({
      type: 'rollout_started',
      at: this.clock.now(),
      route: plan.route,
      baseline: plan.baseline.tag,
      canary: plan.canary.tag,
      stages: plan.stages.map((s) => ({ weight: s.weight, bakeMs: s.bakeMs, pause: s.pause })),
      relay: this.deps.relayUrl ?? '',
      metricsSource: this.metrics.name,
      startStage: startIndex,
    });

    try {
      await this.preflight(startIndex);
    } catch (error) {
      if (this.deps.signal?.aborted) {
        // A resumed run owns the stage the route was found at, whether or not this process
        // wrote it: the abort policy applies to it as to any stage (startStage came from the route).
        if (options.startStage !== undefined && this.reached === null) {
          this.reached = startIndex;
        }
        return this.finish(await this.onAbort('during pre-flight'));
      }
      throw error;
    }

    try {
      if (plan.evaluation) await this.preTrafficEvaluation();
      for (let index = startIndex; index < this.stageCount; index++) {
        const stage = plan.stages[index] as StagePlan;
        await this.enterStage(stage);
        await this.bake(stage, index === untilIndex && index < this.stageCount - 1);
        await this.runStageChecks(stage);
        this.emit({ type: 'stage_passed', at: this.clock.now(), stage: index, weight: stage.weight });
        if (index === untilIndex && index < this.stageCount - 1) {
          return this.finish(
            this.leftInPlace(
              'held',
              ExitCode.Ok,
              `held after ${this.stageLabel(index)} passed, as asked`,
              'until_stage',
            ),
          );
        }
      }
      const rules = this.confirmed?.rules ?? [];
      this.emit({ type: 'promoted', at: this.clock.now(), rules });
      return this.finish({
        outcome: 'promoted',
        exitCode: ExitCode.Ok,
        traffic: rules,
        summary: `promoted: ${this.describeTraffic(rules)} on ${plan.route}`,
        stage: this.reached,
      });
    } catch (error) {
      return this.finish(await this.settle(error));
    } finally {
      this.gate?.controller.abort();
      this.stopControls.abort();
    }
  }

  private interruptExit(reason = abortReason(this.deps.signal)): number {
    if (reason.cause === 'timeout') return ExitCode.Aborted;
    return reason.exitCode ?? ExitCode.Interrupted;
  }

  /** Turns whatever stopped the stage loop into a result. */
  private async settle(error: unknown): Promise<RolloutResult> {
    if (error instanceof Finish) return error.result;
    if (this.deps.signal?.aborted) return this.onAbort();
    if (error instanceof RelayError && (this.changedWeights || this.reached !== null)) {
      // The relay failed while this run owns the canary's traffic: nobody would be watching it
      // once this run ends, so the baseline goes back (and the exit says it was the relay, 5).
      const where = this.reached === null ? 'the start' : this.stageLabel(this.reached);
      try {
        await this.rollback(
          this.reached ?? 0,
          'relay_error',
          `a relay call failed at ${where}: ${error.message}`,
        );
      } catch (finish) {
        if (finish instanceof Finish) return finish.result;
        throw finish;
      }
    }
    if (error instanceof CanaryError) {
      const why =
        error instanceof RelayError
          ? `aborted on a relay error at ${this.reached === null ? 'the start' : this.stageLabel(this.reached)}: ${error.message}`
          : `aborted: ${error.message}`;
      this.emit({
        type: 'aborted',
        at: this.clock.now(),
        stage: this.reached ?? 0,
        reason: why,
        rules: this.confirmed?.rules ?? null,
      });
      return this.leftInPlace('aborted', ExitCode.Aborted, why, 'relay_error');
    }
    // A bug: still say where traffic is before the caller reports the crash.
    const why = `aborted by an internal error: ${message(error)}`;
    this.emit({ type: 'aborted', at: this.clock.now(), stage: this.reached ?? 0, reason: why, rules: null });
    this.finish(this.leftInPlace('aborted', ExitCode.Internal, why, 'relay_error'));
    throw error;
  }

  private async onAbort(when?: string): Promise<RolloutResult> {
    const reason = abortReason(this.deps.signal);
    const exitCode = this.interruptExit(reason);
    const what = `${reason.cause === 'timeout' ? 'timed out' : 'interrupted'}${when ? ` ${when}` : ''}`;
    // The policy applies to the route's state, not to whether this process wrote it: a run that
    // resumed at a stage owns that stage's weights as much as one that set them.
    const owns = this.changedWeights || this.reached !== null;
    if (reason.action === 'leave' || !owns) {
      const why = owns ? `${what}; leaving traffic as it is` : `${what}; nothing was changed`;
      return this.leftInPlace('interrupted', exitCode, why, reason.cause);
    }
    try {
      // The outcome already says "interrupted"/"timed out": the reason says only what triggered it.
      const trigger = reason.why ?? (reason.cause === 'timeout' ? 'the --timeout ran out' : 'an interrupt');
      await this.rollback(this.reached ?? 0, reason.cause, trigger);
    } catch (error) {
      if (error instanceof Finish) {
        const r = error.result;
        return r.outcome === 'rolled_back' ? { ...r, outcome: 'interrupted', exitCode } : r;
      }
      throw error;
    }
    throw new Error('unreachable: rollback always finishes');
  }

  private async preflight(startIndex: number): Promise<void> {
    const { relay } = this.deps;
    const { plan } = this;
    const step = (name: string, detail: string) =>
      this.emit({ type: 'preflight', at: this.clock.now(), step: name, detail });
    const call = { signal: this.deps.signal, deadlineMs: preflightDeadlineMs(plan.analysis.intervalMs) };

    await relay.health(call);
    step('relay', `relay reachable${this.deps.relayUrl ? ` at ${this.deps.relayUrl}` : ''}`);

    for (const [role, ref] of [
      ['baseline', plan.baseline],
      ['canary', plan.canary],
    ] as const) {
      if (ref.spec) {
        const { created } = await relay.registerVersion(ref.spec, call);
        step(
          'version',
          created
            ? `registered ${role} ${ref.tag}`
            : `${role} ${ref.tag} already registered with the same configuration`,
        );
      } else {
        try {
          await relay.getVersion(ref.tag, call);
        } catch (error) {
          if (error instanceof RelayError && error.status === 404) {
            throw new CanaryError(
              `${role} version ${ref.tag} is not registered on the relay, and the plan gives no model to register it with.`,
              ExitCode.BadInput,
              {
                hint: `add \`model:\` (and its settings) under ${role}: in the plan, or register ${ref.tag} first.`,
              },
            );
          }
          throw error;
        }
        step('version', `${role} ${ref.tag} is registered`);
      }
    }

    let route: Route;
    try {
      route = await relay.getRoute(plan.route, call);
      step('route', `route ${plan.route} found: ${formatRules(route.route_rules)}`);
    } catch (error) {
      if (!(error instanceof RelayError && error.status === 404)) throw error;
      route = await relay.createRoute(
        {
          model_alias: plan.route,
          route_rules: [
            { version_tag: plan.baseline.tag, weight: 100 },
            { version_tag: plan.canary.tag, weight: 0 },
          ],
          ...plan.routeDefaults,
        },
        call,
      );
      step('route', `route ${plan.route} created with ${plan.baseline.tag} at 100 %`);
    }

    const acceptable: { weight: number; stage: number | null }[] = [];
    if (this.options.startStage === undefined || startIndex === 0)
      acceptable.push({ weight: 0, stage: null });
    if (this.options.startStage !== undefined) {
      if (startIndex > 0)
        acceptable.push({
          weight: (this.plan.stages[startIndex - 1] as StagePlan).weight,
          stage: startIndex - 1,
        });
      acceptable.push({ weight: (this.plan.stages[startIndex] as StagePlan).weight, stage: startIndex });
    }
    const match = acceptable.find((a) =>
      sameWeights(route.route_rules, this.stageRules(route.route_rules, a.weight)),
    );
    if (!match) {
      const expected = acceptable
        .map((a) =>
          a.stage === null
            ? `baseline ${plan.baseline.tag} 100 %`
            : `${this.stageLabel(a.stage)}: canary ${pct(a.weight)}`,
        )
        .join(' or ');
      throw new CanaryError(
        `route ${plan.route} is at ${formatRules(route.route_rules)}, not the plan's starting point (${expected}). ` +
          'Resuming a rollout mid-way is not supported yet, so nothing was changed.',
        ExitCode.BadInput,
        { hint: `restore the baseline with \`canary rollback ${this.planRef}\`, then run the plan again.` },
      );
    }
    this.reached = match.stage;
    this.confirmed = { rules: route.route_rules, revision: route.revision };
    step('start', `starting from ${this.describeTraffic(route.route_rules)}`);
  }

  /**
   * The plan's `evaluation:` before the first weight change. Skipped, and journaled as such, on
   * `--skip-evaluation` or when the run starts where traffic has already moved; a failed one
   * ends the run with nothing moved (outcome rejected, exit 3).
   */
  private async preTrafficEvaluation(): Promise<void> {
    const skip = (reason: 'flag' | 'resumed', detail: string) =>
      this.emit({ type: 'prompt_eval_skipped', at: this.clock.now(), reason, detail });
    if (this.options.skipEvaluation) {
      return skip('flag', 'skipped with --skip-evaluation: traffic moves without the pre-traffic evaluation');
    }
    if (this.reached !== null) {
      return skip(
        'resumed',
        `resuming at ${this.stageLabel(this.reached)}: the canary already carries traffic`,
      );
    }
    const run = this.deps.preTraffic as NonNullable<RolloutDeps['preTraffic']>; // checked in execute()
    let report: EvaluationReport;
    try {
      report = await run({ emit: this.emit, signal: this.deps.signal });
    } catch (error) {
      if (this.deps.signal?.aborted || !(error instanceof CanaryError)) throw error;
      // A broken judge or prompt is the plan's problem (exit 2); a relay that cannot be pinned, 5.
      const code = error.exitCode === ExitCode.BadInput ? ExitCode.BadInput : ExitCode.Aborted;
      const result = this.leftInPlace(
        'aborted',
        code,
        `the pre-traffic evaluation stopped: ${error.message}`,
        'evaluation',
      );
      throw new Finish({ ...result, next: error.hint ?? result.next });
    }
    if (this.deps.signal?.aborted) throw this.deps.signal.reason;
    if (report.verdict === 'pass') return;
    const traffic = this.confirmed?.rules ?? null;
    throw new Finish({
      outcome: 'rejected',
      exitCode: ExitCode.RolledBack,
      traffic,
      summary: `the pre-traffic evaluation failed: ${report.summary}; no traffic was moved (${this.describeTraffic(traffic)})`,
      next: 'fix the canary (or the prompt set) and run the plan again; in an emergency, --skip-evaluation moves traffic without it',
      cause: 'evaluation',
      stage: null,
    });
  }

  /** Stops without writing when the route is not what this run last set. */
  private checkDrift(route: Route, stage: number, seen = false): void {
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

  private async enterStage(stage: StagePlan): Promise<void> {
    const { relay } = this.deps;
    const { plan } = this;
    const callMs = readDeadlineMs(plan.analysis.intervalMs);
    const current = await relay.getRoute(plan.route, { signal: this.deps.signal, deadlineMs: callMs });
    this.checkDrift(current, stage.index);
    const target = this.stageRules(current.route_rules, stage.weight);
    if (!sameWeights(current.route_rules, target)) {
      // Counted as reached before the write: the canary may hold this weight from here on.
      this.reached = stage.index;
      this.changedWeights = true;
      // No signal: a weight change cut off mid-flight would leave the route's state unknown.
      // A failure that survives the re-sends and read-backs (src/rollout/stage-writes.ts) is a
      // relay error while this run owns the traffic: settle() rolls back.
      const change = await changeWeights({
        relay,
        clock: this.clock,
        route: plan.route,
        target,
        previous: { rules: current.route_rules, revision: current.revision },
        deadlineMs: changeDeadlineMs(plan.analysis.intervalMs, plan.rollback.deadlineMs),
        callDeadlineMs: callMs,
      });
      if (change.kind === 'drift') this.checkDrift(change.route, stage.index, true);
      else this.confirmed = { rules: change.rules, revision: change.revision };
    }
    this.reached = stage.index;
    // The weights must hold, and the revision must be the one this change made: another run
    // writing the same weights at the same moment shows up here as a revision that moved.
    const back = await relay.getRoute(plan.route, { deadlineMs: callMs });
    this.checkDrift(back, stage.index);
    this.confirmed = { rules: back.route_rules, revision: back.revision ?? this.confirmed?.revision };
    this.emit({
      type: 'stage_started',
      at: this.clock.now(),
      stage: stage.index,
      stageCount: this.stageCount,
      weight: stage.weight,
      bakeMs: stage.bakeMs,
      pause: stage.pause,
      rules: back.route_rules,
    });
    this.emit({
      type: 'weights_set',
      at: this.clock.now(),
      stage: stage.index,
      rules: back.route_rules,
      revision: back.revision,
    });
    if (100 - stage.weight <= WEIGHT_TOLERANCE && Object.keys(plan.analysis.baselineComparison).length > 0) {
      this.emit({
        type: 'log',
        at: this.clock.now(),
        level: 'info',
        message: `${this.stageLabel(stage.index)} sends no traffic to the baseline: baseline comparisons are skipped, thresholds alone decide`,
      });
    }
  }

  private nextCommand(): Promise<Wake> | null {
    const controls = this.deps.controls;
    if (!controls) return null;
    if (!this.command) {
      this.command = Promise.resolve()
        .then(() => controls.next(this.stopControls.signal))
        .then(
          (next): Wake => {
            const request = typeof next === 'string' ? { command: next } : next;
            return { kind: 'command', command: request.command, request };
          },
          // A closed channel never wakes the run again.
          () => new Promise<Wake>(() => {}),
        );
    }
    return this.command;
  }

  /** Sleeps until `at`, waking early if the gate answers or the operator sends a command. Run aborts reject. */
  private async waitUntil(at: number, gateWake: Promise<Wake> | null): Promise<Wake> {
    const ms = Math.max(0, at - this.clock.now());
    const { signal } = this.deps;
    const command = this.nextCommand();
    const wakes = [gateWake, command].filter((w): w is Promise<Wake> => w !== null);
    const gate = wakes.length === 0 ? null : wakes.length === 1 ? wakes[0] : Promise.race(wakes);
    if (!gate) {
      await this.clock.sleep(ms, signal);
      return { kind: 'tick' };
    }
    // The run's abort reaches the sleep through a listener, not AbortSignal.any, which would tie
    // one more dependent signal to the run's for every wait of an hours-long bake.
    const local = new AbortController();
    const onAbort = () => local.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const sleep = this.clock.sleep(ms, local.signal);
    sleep.catch(() => {});
    try {
      const wake = await Promise.race([sleep.then((): Wake => ({ kind: 'tick' })), gate]);
      if (wake.kind === 'command') this.command = null;
      return wake;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // A reason of our own: abort() without one builds a DOMException, stack and all, per wait.
      if (!local.signal.aborted) local.abort(WAIT_OVER);
    }
  }

  private openGate(stage: StagePlan, evaluation: Evaluation): void {
    const gateFn = this.deps.gate;
    if (!gateFn) throw new CanaryError('pause stage reached without a gate', ExitCode.Internal);
    const gate = this.gate as Gate;
    const signal = this.deps.signal
      ? AbortSignal.any([this.deps.signal, gate.controller.signal])
      : gate.controller.signal;
    this.emit({ type: 'paused', at: this.clock.now(), stage: stage.index, weight: stage.weight });
    gate.state = 'pending';
    gate.promise = Promise.resolve()
      .then(() =>
        gateFn({ stage: stage.index, stageCount: this.stageCount, weight: stage.weight, evaluation, signal }),
      )
      .then(
        (decision): Wake => ({ kind: 'gate', decision }),
        (error): Wake => ({ kind: 'gate_error', error }),
      );
  }

  private async readWindow(stage: StagePlan, start: number, end: number, stageStart: number) {
    const { plan } = this;
    // Every read ends within its interval plus a small grace (src/rollout/deadlines.ts), so a
    // hung relay cannot hold the next check, or a rollback, for the client's default minute.
    const call = { signal: this.deps.signal, deadlineMs: readDeadlineMs(plan.analysis.intervalMs) };
    const withBaseline = 100 - stage.weight > WEIGHT_TOLERANCE;
    const read = (tag: string, from = start) =>
      this.metrics.readMetrics({ versionTag: tag, start: from, end, route: plan.route }, call);
    const custom = this.deps.customMetrics;
    const readCustom = (tag: string) =>
      custom ? custom.read({ versionTag: tag, start, end, route: plan.route }, call) : Promise.resolve(null);
    // With significance on, the stage so far is read too: its pooled counts are what the
    // error-rate comparison and min_requests judge (src/analysis/sequential-evaluate.ts).
    const pooled = plan.analysis.significance !== undefined;
    const none = Promise.resolve(null);
    const [route, canary, baseline, customCanary, customBaseline, poolCanary, poolBaseline] =
      await Promise.allSettled([
        this.deps.relay.getRoute(plan.route, call),
        read(plan.canary.tag),
        withBaseline ? read(plan.baseline.tag) : none,
        readCustom(plan.canary.tag),
        withBaseline ? readCustom(plan.baseline.tag) : none,
        pooled ? read(plan.canary.tag, stageStart) : none,
        pooled && withBaseline ? read(plan.baseline.tag, stageStart) : none,
      ]);
    return {
      route,
      canary,
      baseline,
      customCanary,
      customBaseline,
      poolCanary,
      poolBaseline,
      withBaseline,
      pooled,
    };
  }

  /** Bakes a stage until it may be left; anything else unwinds with a `Finish`. */
  private async bake(stage: StagePlan, stopBeforeGate: boolean): Promise<void> {
    const { clock } = this;
    const { plan } = this;
    const analysis: AnalysisConfig = plan.analysis;
    const stageStart = clock.now();
    // Moves later while a shared incident holds the stage: its bake clock is paused.
    let bakeEnd = stageStart + stage.bakeMs;
    let dataDeadline = stageStart + stage.dataDeadlineMs;
    let heldMs = 0;
    let holdSince: number | null = null;
    let previousLook = stageStart;
    const budget = errorBudgetFor(plan.stages, analysis);
    /** Failed evaluations in this stage: counted over the stage, not reset by a pass. */
    let failures = 0;
    let readErrors = 0;
    let latest: Evaluation | null = null;
    /** This stage's evaluations, for significance tests over several windows (bounded). */
    const history: Evaluation[] = [];
    let lastPoll = stageStart;
    this.gate = { controller: new AbortController(), state: 'idle', promise: null };
    const gate = this.gate;
    let promoteAsked = this.promoteAll;
    if (this.promoteAll && stage.pause) gate.state = 'approved';
    const canLeave = () =>
      !this.held && (clock.now() >= bakeEnd || promoteAsked) && latest?.verdict === 'pass';
    const operator = (action: OperatorCommand, detail: string) =>
      this.emit({ type: 'operator_action', at: clock.now(), stage: stage.index, action, detail });
    /** After a release, a stage short of data gets the grace the plan gives a stage beyond its bake. */
    const extendDeadline = () => {
      dataDeadline = Math.max(
        dataDeadline,
        clock.now() + Math.max(analysis.intervalMs, stage.dataDeadlineMs - stage.bakeMs),
      );
    };

    try {
      for (;;) {
        let nextAt = lastPoll + analysis.intervalMs;
        if (bakeEnd > lastPoll && bakeEnd < nextAt) nextAt = bakeEnd;
        const wake = await this.waitUntil(nextAt, gate.state === 'pending' ? gate.promise : null);

        if (wake.kind === 'gate_error') {
          if (this.deps.signal?.aborted) throw wake.error;
          throw new CanaryError(
            `the gate at ${this.stageLabel(stage.index)} failed: ${message(wake.error)}`,
            ExitCode.Aborted,
          );
        }
        if (wake.kind === 'command') {
          const label = this.stageLabel(stage.index);
          switch (wake.command) {
            case 'rollback': {
              const { by, reason } = wake.request;
              operator('rollback', `rolling back at ${label} now${by ? ` (asked by ${by})` : ''}`);
              // The summary already says "rolled back at stage n/m": the reason says who and why.
              const why = `${by ? `${by} asked (canary abort)` : 'the operator asked (r key)'}${reason ? `: ${reason}` : ''}`;
              await this.rollback(stage.index, 'operator', why);
              break;
            }
            case 'quit':
              operator('quit', `stopping; traffic stays at ${label}`);
              throw new Finish(
                this.leftInPlace('interrupted', ExitCode.Interrupted, 'stopped by the operator', 'operator'),
              );
            case 'hold':
              if (this.held) continue;
              this.held = true;
              operator('hold', `holding at ${label} until released; checks keep running`);
              continue;
            case 'release':
              if (!this.held) continue;
              this.held = false;
              extendDeadline();
              operator('release', `released ${label}`);
              break;
            case 'promote':
              promoteAsked = true;
              if (wake.request.full) this.promoteAll = true;
              if (this.held) {
                this.held = false;
                extendDeadline();
              }
              if (stage.pause && gate.state !== 'approved') {
                // The key press is the decision the gate would have asked for.
                if (gate.state === 'pending') gate.controller.abort();
                gate.state = 'approved';
              }
              operator(
                'promote',
                (latest?.verdict === 'pass'
                  ? `ending the bake of ${label} now`
                  : `ending the bake of ${label} at the next passing check`) +
                  (this.promoteAll ? '; later stages leave at their first passing check' : ''),
              );
              break;
          }
          if (canLeave()) {
            if (!stage.pause || stopBeforeGate || gate.state === 'approved') return;
            if (gate.state === 'idle') this.openGate(stage, latest as Evaluation);
          }
          continue;
        }
        if (wake.kind === 'gate') {
          this.emit({
            type: 'gate_decision',
            at: clock.now(),
            stage: stage.index,
            decision: wake.decision,
            by: 'operator',
          });
          if (wake.decision === 'rollback') {
            await this.rollback(stage.index, 'operator', 'the operator chose it at the manual gate');
          }
          if (wake.decision === 'hold') {
            throw new Finish(
              this.leftInPlace(
                'held',
                ExitCode.Ok,
                `held at ${this.stageLabel(stage.index)} by the operator`,
                'gate_hold',
              ),
            );
          }
          gate.state = 'approved';
          if (canLeave()) return;
          // Promoted while the latest read lacked a pass: the stage still needs one, within the
          // grace the plan gives a stage beyond its bake.
          dataDeadline = Math.max(
            dataDeadline,
            clock.now() + Math.max(analysis.intervalMs, stage.dataDeadlineMs - stage.bakeMs),
          );
          continue;
        }

        lastPoll = clock.now();
        const windowEnd = lastPoll;
        const windowStart = Math.max(windowEnd - analysis.windowMs, stageStart);
        const reads = await this.readWindow(stage, windowStart, windowEnd, stageStart);

        if (reads.route.status === 'fulfilled') this.checkDrift(reads.route.value, stage.index);
        else if (!this.deps.signal?.aborted && analysis.onMetricErrors === 'rollback') {
          // The route could not be read (after the call's own retries): nothing shows the canary
          // still holds only its stage, and no drift was seen. Restore the baseline. A plan that
          // says `on_metric_errors: hold` asked to ride out relay outages: it is counted below.
          await this.rollback(
            stage.index,
            'relay_error',
            `the route could not be read: ${message(reads.route.reason)}`,
          );
        }
        const failed = [
          reads.route,
          reads.canary,
          reads.baseline,
          reads.customCanary,
          reads.customBaseline,
          reads.poolCanary,
          reads.poolBaseline,
        ].find((r) => r.status === 'rejected');
        if (failed) {
          if (this.deps.signal?.aborted) throw this.deps.signal.reason;
          readErrors++;
          latest = null;
          const what = failed === reads.route ? 'reading the route' : 'reading metrics';
          this.emit({
            type: 'metrics_error',
            at: clock.now(),
            stage: stage.index,
            message: `${what} failed: ${message((failed as PromiseRejectedResult).reason)}`,
            consecutive: readErrors,
            limit: analysis.maxMetricErrors,
          });
          if (readErrors >= analysis.maxMetricErrors && analysis.onMetricErrors === 'rollback') {
            await this.rollback(
              stage.index,
              'metrics_unavailable',
              `metrics unreadable ${readErrors} times in a row (last: ${message((failed as PromiseRejectedResult).reason)})`,
            );
          }
        } else {
          readErrors = 0;
          const config = reads.withBaseline ? analysis : { ...analysis, baselineComparison: {} };
          const value = <T>(r: PromiseSettledResult<T>) => (r as PromiseFulfilledResult<T>).value;
          const builtIn = evaluate({
            canary: value(reads.canary),
            baseline: value(reads.baseline),
            config,
            history,
            at: clock.now(),
            windowStart,
            windowEnd,
            ...(reads.pooled
              ? {
                  pool: {
                    canary: value(reads.poolCanary),
                    baseline: value(reads.poolBaseline),
                    reference: reads.withBaseline ? null : this.referenceBaseline,
                  },
                  stage: {
                    bakeFraction: (clock.now() - stageStart - heldMs) / Math.max(1, stage.bakeMs),
                    budget,
                  },
                }
              : {}),
          });
          // analysis.metrics: judged on the same window, folded into the same verdict (dry-run ones shown only).
          const evaluation = withCustomChecks(
            builtIn,
            judgeCustom({
              metrics: analysis.customMetrics ?? [],
              canary: (reads.customCanary as PromiseFulfilledResult<CustomValues | null>).value,
              baseline: (reads.customBaseline as PromiseFulfilledResult<CustomValues | null>).value,
              canaryRequests: builtIn.canaryRequests,
              significance: config.significance !== undefined,
            }),
          );
          latest = evaluation;
          if (reads.pooled && reads.withBaseline) this.referenceBaseline = value(reads.poolBaseline);
          history.push(evaluation);
          if (history.length > 240) history.shift();
          if (evaluation.verdict === 'fail') failures++;
          if (evaluation.verdict === 'hold') {
            // Both versions degraded: the time since the last look does not count as bake.
            const paused = clock.now() - previousLook;
            heldMs += paused;
            bakeEnd += paused;
            dataDeadline += paused;
            holdSince ??= previousLook;
          } else {
            holdSince = null;
          }
          previousLook = clock.now();
          const event = {
            type: 'evaluation' as const,
            at: clock.now(),
            stage: stage.index,
            evaluation,
            consecutiveFailures: failures,
            failureLimit: analysis.failureLimit,
            bakeElapsedMs: clock.now() - stageStart,
            bakeMs: stage.bakeMs,
            nextCheckAt: clock.now() + analysis.intervalMs,
          };
          if (evaluation.verdict === 'fail' && failures >= analysis.failureLimit) {
            const why = `${reasonOf(evaluation)} (${failures} failed evaluation${failures === 1 ? '' : 's'} in this stage)`;
            await this.rollback(stage.index, 'health', why, () => this.emit(event));
          }
          this.emit(event);
          if (holdSince !== null && clock.now() - holdSince >= analysis.holdDeadlineMs) {
            await this.rollback(
              stage.index,
              'shared_incident',
              `both versions degraded for ${formatDuration(clock.now() - holdSince)}, past the hold deadline of ` +
                `${formatDuration(analysis.holdDeadlineMs)} (analysis.hold_deadline): ${verdictReason(evaluation)}`,
            );
          }
          if (evaluation.verdict === 'no_data') {
            this.emit({
              type: 'waiting_for_data',
              at: clock.now(),
              stage: stage.index,
              requests: evaluation.pooled?.canary_requests ?? evaluation.canaryRequests,
              minRequests: evaluation.minRequests,
              deadlineAt: dataDeadline,
              ...(evaluation.waiting_for ? { needs: evaluation.waiting_for } : {}),
            });
          }
        }

        // A gate's question comes after the checks, so whoever answers it sees their results.
        if (canLeave() && stage.pause && !stopBeforeGate && gate.state === 'idle') {
          await this.runStageChecks(stage);
        }
        if (canLeave()) {
          if (!stage.pause || stopBeforeGate || gate.state === 'approved') return;
          if (gate.state === 'idle') this.openGate(stage, latest as Evaluation);
        }
        const verdict = latest?.verdict ?? 'no_data';
        if (verdict === 'no_data' && gate.state !== 'pending' && !this.held && clock.now() >= dataDeadline) {
          const why = latest
            ? `not enough data by the deadline: ${reasonOf(latest)}`
            : 'not enough data by the deadline: the latest metrics read failed';
          await this.rollback(stage.index, 'insufficient_data', why);
        }
      }
    } finally {
      gate.controller.abort();
    }
  }

  /** Runs the stage's checks once; a failing one rolls back like a failed health check. */
  private async runStageChecks(stage: StagePlan): Promise<void> {
    if (this.checkedStages.has(stage.index)) return;
    this.checkedStages.add(stage.index);
    const checks = [...(this.plan.checks ?? []), ...(stage.checks ?? [])];
    if (checks.length === 0) return;
    if (!this.deps.stageChecks) {
      throw new CanaryError(
        'this plan has checks but the engine was given no runner for them.',
        ExitCode.Internal,
      );
    }
    this.emit({
      type: 'log',
      at: this.clock.now(),
      level: 'info',
      message: `${this.stageLabel(stage.index)}: running check${checks.length === 1 ? '' : 's'} ${checks.map((c) => c.name).join(', ')}`,
    });
    const results = await this.deps.stageChecks({
      stage: stage.index,
      stageCount: this.stageCount,
      weight: stage.weight,
      checks,
      signal: this.deps.signal,
    });
    if (this.deps.signal?.aborted) throw this.deps.signal.reason;
    for (const check of results) {
      this.emit({ type: 'stage_check', at: this.clock.now(), stage: stage.index, check });
    }
    const failed = results.find((r) => r.status === 'fail');
    if (failed) {
      const how = failed.timedOut
        ? 'timed out'
        : failed.exitCode === null
          ? 'could not run'
          : `failed with exit code ${failed.exitCode}`;
      const last = failed.output.trimEnd().split('\n').pop()?.trim();
      await this.rollback(
        stage.index,
        'health',
        `stage check '${failed.name}' ${how}${last ? `: ${last.slice(0, 200)}` : ''}`,
      );
    }
  }

  /**
   * Rolls back to the baseline and unwinds with the result. The PATCH goes out first;
   * `announce` (the decisive evaluation) is emitted only after it has been sent.
   */
  private async rollback(
    stage: number,
    cause: RollbackCause,
    reason: string,
    announce?: () => void,
  ): Promise<never> {
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

export async function runRollout(
  plan: Plan,
  deps: RolloutDeps,
  options: RolloutOptions = {},
): Promise<RolloutResult> {
  return new RolloutRun(plan, deps, options).execute();
}
