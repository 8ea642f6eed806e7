/**
 * One event as one line of text, shared by the plain reporter and the live view's event log.
 * The state passed in has NOT yet seen the event (so a stage line can still say where it came from).
 */
import type { ChalkInstance } from 'chalk';
import type { CheckResult, CustomCheck } from '../analysis/types.js';
import { evaluationLines } from '../evaluation/format.js';
import {
  formatCount,
  formatDuration,
  formatRules,
  formatWeight,
  outcomeHeadline,
  waitingText,
} from '../format.js';
import type { RolloutEvent } from '../rollout/events.js';
import { describeCheck, formatErrorControl } from './check-text.js';
import { currentWeights, stageLabel, type ViewState } from './view-state.js';

export interface EventLine {
  tag: string;
  text: string;
  tone: 'normal' | 'good' | 'bad' | 'warn' | 'dim';
}

function checksText(checks: readonly CheckResult[], status?: CheckResult['status']): string {
  const chosen = status ? checks.filter((c) => c.status === status) : checks;
  return chosen.map(describeCheck).join(' · ');
}

/**
 * `analysis.metrics` checks as they read in a line: their reasons, dry-run ones marked. A
 * dry-run check is shown with every verdict (it never decides one), so a trial is always visible.
 */
function customText(checks: readonly CustomCheck[] | undefined, status?: CustomCheck['status']): string {
  const chosen = (checks ?? []).filter((c) => c.dry_run || status === undefined || c.status === status);
  return chosen
    .map((c) => (c.dry_run && c.status === 'fail' ? `${c.reason} (would fail)` : c.reason))
    .join(' · ');
}

function join(...parts: Array<string | undefined | false>): string {
  return parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join(' · ');
}

type EventOf<T extends RolloutEvent['type']> = Extract<RolloutEvent, { type: T }>;
type Describer<T extends RolloutEvent['type']> = (event: EventOf<T>, state: ViewState) => EventLine[];

/** Lines for one event; `rollout_finished` with a `next` gives two, everything else one. */
export function describeEvent(event: RolloutEvent, state: ViewState): EventLine[] {
  if (!Object.hasOwn(DESCRIBERS, event.type)) {
    // An event type this build does not know (a newer core): say so rather than drop it.
    const unknown = event as { type?: unknown };
    return one('event', String(unknown.type), 'dim');
  }
  const describe = DESCRIBERS[event.type] as (event: RolloutEvent, state: ViewState) => EventLine[];
  return describe(event, state);
}

function one(tag: string, text: string, tone: EventLine['tone']): EventLine[] {
  return [{ tag, text, tone }];
}

/** One describer per event type: an event type without one does not compile. */
const DESCRIBERS: { [T in RolloutEvent['type']]: Describer<T> } = {
  rollout_started: describeStart,
  preflight: (event) => one('preflight', `${event.step}: ${event.detail}`, 'dim'),
  stage_started: describeStageStart,
  weights_set: (event) => one('weights', `${formatRules(event.rules)}${revisionText(event.revision)}`, 'dim'),
  evaluation: describeEvaluation,
  waiting_for_data: (event) => one('wait', waitingText(event, event.deadlineAt - event.at), 'warn'),
  metrics_error: (event) =>
    one('metrics', `read failed ${event.consecutive}/${event.limit}: ${event.message}`, 'warn'),
  stage_check: describeStageCheck,
  stage_passed: (event, state) =>
    one(stageLabel(state, event.stage), `passed at canary ${formatWeight(event.weight)}`, 'good'),
  paused: (event, state) =>
    one(
      'pause',
      `${stageLabel(state, event.stage)} at canary ${formatWeight(event.weight)}: waiting for a decision (promote, rollback or hold)`,
      'warn',
    ),
  gate_decision: (event) => one('gate', `${event.decision} by ${event.by}`, 'normal'),
  operator_action: (event) =>
    one(
      'operator',
      `${event.action}: ${event.detail}`,
      event.action === 'rollback' || event.action === 'quit' ? 'warn' : 'normal',
    ),
  control_request: describeControlRequest,
  rollback_started: (event) =>
    one('rollback', `rolling back (${event.cause}): ${event.reason} → ${formatRules(event.to)}`, 'bad'),
  rolled_back: (event) =>
    one(
      'rollback',
      `done in ${formatDuration(event.durationMs)}: ${formatRules(event.rules)}${revisionText(event.revision)}`,
      'bad',
    ),
  rollback_failed: (event) =>
    one('rollback', `FAILED: ${event.message} — restore by hand: ${event.manualCommand}`, 'bad'),
  promoted: (event) => one('promoted', formatRules(event.rules), 'good'),
  aborted: (event, state) => {
    const where = event.rules ? ` · traffic ${formatRules(event.rules)}` : ' · traffic unknown';
    return one('aborted', `${stageLabel(state, event.stage)}: ${event.reason}${where}`, 'bad');
  },
  rollout_finished: describeFinish,
  log: (event) =>
    one(
      event.level,
      event.message,
      event.level === 'error' ? 'bad' : event.level === 'warn' ? 'warn' : 'normal',
    ),
  // The pre-traffic evaluation (src/evaluation/).
  prompt_eval_started: describePromptEvalStart,
  prompt_eval_progress: (event) => one('evaluation', `${event.done}/${event.total} answers`, 'dim'),
  prompt_eval_finished: (event) =>
    evaluationLines(event.report).map((line) => ({ tag: 'evaluation', ...line })),
  prompt_eval_skipped: (event) =>
    one('evaluation', event.detail, event.reason === 'flag' ? 'warn' : 'normal'),
};

function revisionText(revision: number | undefined): string {
  return revision !== undefined ? ` (revision ${revision})` : '';
}

function describeStart(event: EventOf<'rollout_started'>): EventLine[] {
  const stages = event.stages.map((s) => formatWeight(s.weight)).join(' → ');
  const resume = event.startStage > 0 ? `resuming at stage ${event.startStage + 1}` : undefined;
  return one(
    'start',
    join(
      `${event.route}: ${event.baseline} → ${event.canary}`,
      `${event.stages.length} stages ${stages}`,
      resume,
      `relay ${event.relay}`,
      `metrics ${event.metricsSource}`,
    ),
    'normal',
  );
}

function describeStageStart(event: EventOf<'stage_started'>, state: ViewState): EventLine[] {
  const next: ViewState = { ...state, stage: event.stage, stageCount: event.stageCount };
  const canary = event.rules.find((r) => r.version_tag === state.canary)?.weight ?? event.weight;
  const baseline = event.rules.find((r) => r.version_tag === state.baseline)?.weight ?? 100 - event.weight;
  const gate = event.pause ? ' · manual gate' : '';
  return one(
    stageLabel(next),
    `canary ${formatWeight(canary)} baseline ${formatWeight(baseline)} — bake ${formatDuration(event.bakeMs)}${gate}`,
    'normal',
  );
}

/** A look's verdict: what passed, held or failed, or what the look still waits for. */
function describeEvaluation(event: EventOf<'evaluation'>): EventLine[] {
  const e = event.evaluation;
  const bake = `bake ${formatDuration(event.bakeElapsedMs)}/${formatDuration(event.bakeMs)}`;
  if (e.verdict === 'pass') {
    const requests =
      e.canaryRequests != null ? `${formatCount(e.canaryRequests)} canary req` : 'canary requests unknown';
    const control = e.error_control ? formatErrorControl(e.error_control) : undefined;
    return one(
      'check',
      join('pass', checksText(e.checks), customText(e.custom), requests, bake, control),
      'good',
    );
  }
  if (e.verdict === 'hold') {
    const why = join(checksText(e.checks, 'hold'), customText(e.custom, 'hold'));
    return one(
      'check',
      join('HOLD both versions degraded (shared incident)', why, `${bake} (paused)`),
      'warn',
    );
  }
  if (e.verdict === 'fail') {
    const why = join(checksText(e.checks, 'fail'), customText(e.custom, 'fail'));
    return one('check', join(`FAIL ${event.consecutiveFailures}/${event.failureLimit}`, why), 'bad');
  }
  const short =
    e.waiting_for ??
    (e.canaryRequests != null && e.canaryRequests < e.minRequests
      ? `${formatCount(e.canaryRequests)}/${formatCount(e.minRequests)} canary requests`
      : undefined);
  const why = join(checksText(e.checks, 'no_data'), customText(e.custom, 'no_data'));
  return one('check', join('no data', short, why, bake), 'warn');
}

/** A plan's `checks:` command; a failure shows the last line of its output. */
function describeStageCheck(event: EventOf<'stage_check'>, state: ViewState): EventLine[] {
  const c = event.check;
  const how =
    c.status === 'pass' ? 'passed' : c.timedOut ? 'timed out' : `failed (exit ${c.exitCode ?? '?'})`;
  const last = c.status === 'fail' ? c.output.trimEnd().split('\n').pop() : undefined;
  return one(
    stageLabel(state, event.stage),
    `check ${c.name} ${how} in ${formatDuration(c.durationMs)}${last ? `: ${last}` : ''}`,
    c.status === 'pass' ? 'good' : 'bad',
  );
}

function describeControlRequest(event: EventOf<'control_request'>): EventLine[] {
  const what = event.action === 'promote' && event.full ? 'promote --full' : event.action;
  const why = event.reason ? `: ${event.reason}` : '';
  return one(
    'control',
    `${what} asked by ${event.user}@${event.host} (pid ${event.pid})${why}`,
    event.action === 'abort' ? 'warn' : 'normal',
  );
}

function describeFinish(event: EventOf<'rollout_finished'>): EventLine[] {
  const tone = event.outcome === 'promoted' ? 'good' : event.outcome === 'held' ? 'warn' : 'bad';
  const lines = one('result', outcomeHeadline(event.outcome, event.summary), tone);
  if (event.next) lines.push({ tag: '', text: `next: ${event.next}`, tone: 'normal' });
  return lines;
}

function describePromptEvalStart(event: EventOf<'prompt_eval_started'>): EventLine[] {
  return one(
    'evaluation',
    `sending ${event.prompts} prompt${event.prompts === 1 ? '' : 's'}${event.repeat > 1 ? ` × ${event.repeat}` : ''} to ${event.baseline} and ${event.canary}, pinned, ${event.concurrency} at a time${event.judge ? ', then the judge' : ''}; no traffic moves before it passes`,
    'normal',
  );
}

export function paint(chalk: ChalkInstance, line: EventLine): string {
  const tag = line.tag ? `[${line.tag}] ` : '';
  return toneColor(chalk, line.tone, `${tag}${line.text}`);
}

/** Text in its line's tone: the one place a tone becomes a colour. */
export function toneColor(chalk: ChalkInstance, tone: EventLine['tone'], text: string): string {
  switch (tone) {
    case 'good':
      return chalk.green(text);
    case 'bad':
      return chalk.red(text);
    case 'warn':
      return chalk.yellow(text);
    case 'dim':
      return chalk.dim(text);
    default:
      return text;
  }
}

/** Canary/baseline weights as a short phrase for headers. */
export function weightsPhrase(state: ViewState): string {
  const { canary, baseline } = currentWeights(state);
  return `canary ${formatWeight(canary)} · baseline ${formatWeight(baseline)}`;
}
