/**
 * What the renderers remember between events: a fold of the event stream, nothing more.
 * Events carry the facts; this only keeps the latest of each so a line or a frame can be
 * drawn from any point in the stream (including a stream that starts mid-rollout on resume).
 */
import type { Evaluation } from '../analysis/types.js';
import { heldAfter } from '../control/hold.js';
import type { RouteRule } from '../domain/relay.js';
import type { Outcome, RolloutEvent, RolloutEventType, StageSummary } from '../rollout/events.js';

export interface ViewState {
  route?: string;
  baseline?: string;
  canary?: string;
  stages: StageSummary[];
  relay?: string;
  metricsSource?: string;
  /** Time of the first event seen; the origin of `+mm:ss` prefixes. */
  startedAt?: number;
  /** Time of the latest event: the renderer's notion of "now" when no clock is given. */
  lastAt?: number;
  /** 0-based stage index as the core emits it. */
  stage?: number;
  stageCount?: number;
  weight?: number;
  bakeMs?: number;
  pause: boolean;
  stageStartedAt?: number;
  rules: RouteRule[] | null;
  revision?: number;
  evaluation?: {
    at: number;
    evaluation: Evaluation;
    consecutiveFailures: number;
    failureLimit: number;
    bakeElapsedMs: number;
    bakeMs: number;
    nextCheckAt: number;
  };
  waiting?: {
    at: number;
    requests: number | null;
    minRequests: number;
    deadlineAt: number;
    /** What is missing, in the engine's words, when it is not just canary requests. */
    needs?: string | undefined;
  };
  metricsError?: { message: string; consecutive: number; limit: number };
  /** The pre-traffic evaluation while it runs: since when, and the answers counted so far. */
  promptEval?: { startedAt: number; done: number; total: number | null };
  paused: boolean;
  /** The operator is holding the run at this stage (the `h` key) until released. */
  held?: boolean;
  rollingBack?: { reason: string; cause: string };
  finished?: { outcome: Outcome; summary: string; next?: string | undefined; exitCode: number };
}

export function initialState(): ViewState {
  return { stages: [], pause: false, rules: null, paused: false };
}

export function applyEvent(state: ViewState, event: RolloutEvent): void {
  noteTime(state, event);
  // Own properties only: a journal's unknown type (`constructor`, say) is no step.
  if (Object.hasOwn(STEPS, event.type)) (STEPS[event.type] as Step<RolloutEvent>)(state, event);
}

type Step<E extends RolloutEvent> = (state: ViewState, event: E) => void;

/** What each event changes; an event not named here changes only the times. */
const STEPS: { [T in RolloutEventType]?: Step<Extract<RolloutEvent, { type: T }>> } = {
  prompt_eval_started: (state, event) => {
    state.promptEval = { startedAt: event.at, done: 0, total: null };
  },
  prompt_eval_progress: (state, event) => {
    state.promptEval = {
      startedAt: state.promptEval?.startedAt ?? event.at,
      done: event.done,
      total: event.total,
    };
  },
  prompt_eval_finished: (state) => {
    state.promptEval = undefined;
  },
  prompt_eval_skipped: (state) => {
    state.promptEval = undefined;
  },
  rollout_started: startRollout,
  stage_started: startStage,
  weights_set: (state, event) => {
    state.rules = event.rules;
    if (event.revision !== undefined) state.revision = event.revision;
  },
  evaluation: recordEvaluation,
  waiting_for_data: (state, event) => {
    state.waiting = {
      at: event.at,
      requests: event.requests,
      minRequests: event.minRequests,
      deadlineAt: event.deadlineAt,
      needs: event.needs,
    };
    // A count of requests means the last read worked.
    state.metricsError = undefined;
  },
  metrics_error: (state, event) => {
    state.metricsError = { message: event.message, consecutive: event.consecutive, limit: event.limit };
  },
  paused: (state) => {
    state.paused = true;
  },
  gate_decision: (state) => {
    state.paused = false;
  },
  operator_action: (state, event) => {
    state.held = heldAfter(state.held === true, event);
  },
  rollback_started: (state, event) => {
    state.rollingBack = { reason: event.reason, cause: event.cause };
  },
  rolled_back: (state, event) => {
    state.rules = event.rules;
    if (event.revision !== undefined) state.revision = event.revision;
  },
  promoted: (state, event) => {
    state.rules = event.rules;
  },
  aborted: (state, event) => {
    if (event.rules) state.rules = event.rules;
  },
  rollout_finished: finishRollout,
};

/** The first event's time is the origin of `+mm:ss`; the latest is "now" when no clock is given. */
function noteTime(state: ViewState, event: RolloutEvent): void {
  if (Number.isFinite(event.at)) {
    state.startedAt ??= event.at;
    state.lastAt = state.lastAt === undefined ? event.at : Math.max(state.lastAt, event.at);
  }
}

function startRollout(state: ViewState, event: Extract<RolloutEvent, { type: 'rollout_started' }>): void {
  state.route = event.route;
  state.baseline = event.baseline;
  state.canary = event.canary;
  state.stages = event.stages;
  state.stageCount = event.stages.length;
  state.relay = event.relay;
  state.metricsSource = event.metricsSource;
  state.startedAt = event.at;
}

/** A new stage: its settings, and nothing held over from the last one (pause, hold, waits, errors). */
function startStage(state: ViewState, event: Extract<RolloutEvent, { type: 'stage_started' }>): void {
  state.stage = event.stage;
  state.stageCount = event.stageCount;
  state.weight = event.weight;
  state.bakeMs = event.bakeMs;
  state.pause = event.pause;
  state.stageStartedAt = event.at;
  state.rules = event.rules;
  state.paused = false;
  state.held = false;
  state.waiting = undefined;
  state.metricsError = undefined;
}

function recordEvaluation(state: ViewState, event: Extract<RolloutEvent, { type: 'evaluation' }>): void {
  state.stage = event.stage;
  state.evaluation = {
    at: event.at,
    evaluation: event.evaluation,
    consecutiveFailures: event.consecutiveFailures,
    failureLimit: event.failureLimit,
    bakeElapsedMs: event.bakeElapsedMs,
    bakeMs: event.bakeMs,
    nextCheckAt: event.nextCheckAt,
  };
  state.metricsError = undefined;
  if (event.evaluation.verdict !== 'no_data') state.waiting = undefined;
}

function finishRollout(state: ViewState, event: Extract<RolloutEvent, { type: 'rollout_finished' }>): void {
  state.route ??= event.route;
  if (event.traffic) state.rules = event.traffic;
  state.finished = {
    outcome: event.outcome,
    summary: event.summary,
    next: event.next,
    exitCode: event.exitCode,
  };
}

/** `stage 2/4` from a 0-based index; `stage ?` before any stage started. */
export function stageLabel(state: ViewState, stage: number | undefined = state.stage): string {
  if (stage === undefined) return 'stage ?';
  const count = state.stageCount ?? state.stages.length;
  return count > 0 ? `stage ${stage + 1}/${count}` : `stage ${stage + 1}`;
}

/** Canary and baseline weights, from the rules when known, else inferred from the stage weight. */
export function currentWeights(state: ViewState): { canary: number | null; baseline: number | null } {
  const find = (tag: string | undefined) =>
    tag === undefined ? undefined : state.rules?.find((r) => r.version_tag === tag)?.weight;
  const canary = find(state.canary) ?? state.weight ?? null;
  const baseline = find(state.baseline) ?? (state.weight !== undefined ? 100 - state.weight : null);
  return { canary, baseline };
}
