/**
 * One stage's bake, as its looks, commands and gate change it: when the bake ends (later while
 * both versions are degraded), when data must have come, the latest verdict, and the counts
 * that decide a rollback.
 */
import { errorBudgetFor } from '../analysis/sequential.js';
import type { Evaluation } from '../analysis/types.js';
import type { StagePlan } from '../domain/plan.js';
import type { Gate, RolloutRun } from './run.js';

/** Evaluations a stage keeps for significance tests over several windows. */
const HISTORY_LIMIT = 240;

export class StageBake {
  readonly stageStart: number;
  /** Moves later while a shared incident holds the stage: its bake clock is paused. */
  bakeEnd: number;
  dataDeadline: number;
  /** Time spent with both versions degraded, which does not count as bake. */
  heldMs = 0;
  holdSince: number | null = null;
  previousLook: number;
  lastPoll: number;
  readonly budget: ReturnType<typeof errorBudgetFor>;
  /** Failed evaluations in this stage: counted over the stage, not reset by a pass. */
  failures = 0;
  /** Metrics reads that failed in a row. */
  readErrors = 0;
  latest: Evaluation | null = null;
  /** This stage's evaluations, for significance tests over several windows (bounded). */
  readonly history: Evaluation[] = [];
  readonly gate: Gate;
  /** The operator asked to end this bake at the next passing check. */
  promoteAsked: boolean;

  constructor(
    private readonly run: RolloutRun,
    readonly stage: StagePlan,
    /** The run stops after this stage (--until-stage): its gate is never asked. */
    readonly stopBeforeGate: boolean,
  ) {
    const now = run.clock.now();
    this.stageStart = now;
    this.bakeEnd = now + stage.bakeMs;
    this.dataDeadline = now + stage.dataDeadlineMs;
    this.previousLook = now;
    this.lastPoll = now;
    this.budget = errorBudgetFor(run.plan.stages, run.plan.analysis);
    this.gate = { controller: new AbortController(), state: 'idle', promise: null };
    run.gate = this.gate;
    this.promoteAsked = run.promoteAll;
    if (run.promoteAll && stage.pause) this.gate.state = 'approved';
  }

  /** The stage may be left: not held, baked (or promoted), and the latest look passed. */
  canLeave(): boolean {
    const { run } = this;
    return (
      !run.held && (run.clock.now() >= this.bakeEnd || this.promoteAsked) && this.latest?.verdict === 'pass'
    );
  }

  /** Whether leaving also waits for the gate's `promote`. */
  get needsGate(): boolean {
    return this.stage.pause && !this.stopBeforeGate && this.gate.state !== 'approved';
  }

  /** When to look next: an interval after the last look, or the bake's end if that comes first. */
  nextLookAt(): number {
    const nextAt = this.lastPoll + this.run.plan.analysis.intervalMs;
    return this.bakeEnd > this.lastPoll && this.bakeEnd < nextAt ? this.bakeEnd : nextAt;
  }

  /** After a release or a gate's promote, a stage short of data gets the grace the plan gives a stage beyond its bake. */
  extendDeadline(): void {
    const { stage } = this;
    this.dataDeadline = Math.max(
      this.dataDeadline,
      this.run.clock.now() + Math.max(this.run.plan.analysis.intervalMs, stage.dataDeadlineMs - stage.bakeMs),
    );
  }

  /** Keeps an evaluation for the significance tests, the oldest dropped past the limit. */
  remember(evaluation: Evaluation): void {
    this.latest = evaluation;
    this.history.push(evaluation);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
  }
}
