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
import type { PromptEvalEvent, RolloutEvent } from '../rollout/events.js';
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

/** Lines for one event; `rollout_finished` with a `next` gives two, everything else one. */
export function describeEvent(event: RolloutEvent, state: ViewState): EventLine[] {
  switch (event.type) {
    case 'rollout_started': {
      const stages = event.stages.map((s) => formatWeight(s.weight)).join(' → ');
      const resume = event.startStage > 0 ? `resuming at stage ${event.startStage + 1}` : undefined;
      return [
        {
          tag: 'start',
          text: join(
            `${event.route}: ${event.baseline} → ${event.canary}`,
            `${event.stages.length} stages ${stages}`,
            resume,
            `relay ${event.relay}`,
            `metrics ${event.metricsSource}`,
          ),
          tone: 'normal',
        },
      ];
    }
    case 'preflight':
      return [{ tag: 'preflight', text: `${event.step}: ${event.detail}`, tone: 'dim' }];
    case 'stage_started': {
      const next: ViewState = { ...state, stage: event.stage, stageCount: event.stageCount };
      const canary = event.rules.find((r) => r.version_tag === state.canary)?.weight ?? event.weight;
      const baseline =
        event.rules.find((r) => r.version_tag === state.baseline)?.weight ?? 100 - event.weight;
      const gate = event.pause ? ' · manual gate' : '';
      return [
        {
          tag: stageLabel(next),
          text: `canary ${formatWeight(canary)} baseline ${formatWeight(baseline)} — bake ${formatDuration(event.bakeMs)}${gate}`,
          tone: 'normal',
        },
      ];
    }
    case 'weights_set': {
      const revision = event.revision !== undefined ? ` (revision ${event.revision})` : '';
      return [{ tag: 'weights', text: `${formatRules(event.rules)}${revision}`, tone: 'dim' }];
    }
    case 'evaluation': {
      const e = event.evaluation;
      const bake = `bake ${formatDuration(event.bakeElapsedMs)}/${formatDuration(event.bakeMs)}`;
      const requests =
        e.canaryRequests != null ? `${formatCount(e.canaryRequests)} canary req` : 'canary requests unknown';
      const custom = customText(e.custom);
      const control = e.error_control ? formatErrorControl(e.error_control) : undefined;
      if (e.verdict === 'pass') {
        return [
          {
            tag: 'check',
            text: join('pass', checksText(e.checks), custom, requests, bake, control),
            tone: 'good',
          },
        ];
      }
      if (e.verdict === 'hold') {
        return [
          {
            tag: 'check',
            text: join(
              'HOLD both versions degraded (shared incident)',
              checksText(e.checks, 'hold'),
              customText(e.custom, 'hold'),
              `${bake} (paused)`,
            ),
            tone: 'warn',
          },
        ];
      }
      if (e.verdict === 'fail') {
        return [
          {
            tag: 'check',
            text: join(
              `FAIL ${event.consecutiveFailures}/${event.failureLimit}`,
              checksText(e.checks, 'fail'),
              customText(e.custom, 'fail'),
            ),
            tone: 'bad',
          },
        ];
      }
      const short =
        e.waiting_for ??
        (e.canaryRequests != null && e.canaryRequests < e.minRequests
          ? `${formatCount(e.canaryRequests)}/${formatCount(e.minRequests)} canary requests`
          : undefined);
      return [
        {
          tag: 'check',
          text: join(
            'no data',
            short,
            checksText(e.checks, 'no_data'),
            customText(e.custom, 'no_data'),
            bake,
          ),
          tone: 'warn',
        },
      ];
    }
    case 'waiting_for_data':
      return [{ tag: 'wait', text: waitingText(event, event.deadlineAt - event.at), tone: 'warn' }];
    case 'metrics_error':
      return [
        {
          tag: 'metrics',
          text: `read failed ${event.consecutive}/${event.limit}: ${event.message}`,
          tone: 'warn',
        },
      ];
    case 'stage_check': {
      // A plan's `checks:` command; a failure shows the last line of its output.
      const c = event.check;
      const how =
        c.status === 'pass' ? 'passed' : c.timedOut ? 'timed out' : `failed (exit ${c.exitCode ?? '?'})`;
      const last = c.status === 'fail' ? c.output.trimEnd().split('\n').pop() : undefined;
      return [
        {
          tag: stageLabel(state, event.stage),
          text: `check ${c.name} ${how} in ${formatDuration(c.durationMs)}${last ? `: ${last}` : ''}`,
          tone: c.status === 'pass' ? 'good' : 'bad',
        },
      ];
    }
    case 'stage_passed':
      return [
        {
          tag: stageLabel(state, event.stage),
          text: `passed at canary ${formatWeight(event.weight)}`,
          tone: 'good',
        },
      ];
    case 'paused':
      return [
        {
          tag: 'pause',
          text: `${stageLabel(state, event.stage)} at canary ${formatWeight(event.weight)}: waiting for a decision (promote, rollback or hold)`,
          tone: 'warn',
        },
      ];
    case 'gate_decision':
      return [{ tag: 'gate', text: `${event.decision} by ${event.by}`, tone: 'normal' }];
    case 'operator_action':
      return [
        {
          tag: 'operator',
          text: `${event.action}: ${event.detail}`,
          tone: event.action === 'rollback' || event.action === 'quit' ? 'warn' : 'normal',
        },
      ];
    case 'control_request': {
      const what = event.action === 'promote' && event.full ? 'promote --full' : event.action;
      const why = event.reason ? `: ${event.reason}` : '';
      return [
        {
          tag: 'control',
          text: `${what} asked by ${event.user}@${event.host} (pid ${event.pid})${why}`,
          tone: event.action === 'abort' ? 'warn' : 'normal',
        },
      ];
    }
    case 'rollback_started':
      return [
        {
          tag: 'rollback',
          text: `rolling back (${event.cause}): ${event.reason} → ${formatRules(event.to)}`,
          tone: 'bad',
        },
      ];
    case 'rolled_back': {
      const revision = event.revision !== undefined ? ` (revision ${event.revision})` : '';
      return [
        {
          tag: 'rollback',
          text: `done in ${formatDuration(event.durationMs)}: ${formatRules(event.rules)}${revision}`,
          tone: 'bad',
        },
      ];
    }
    case 'rollback_failed':
      return [
        {
          tag: 'rollback',
          text: `FAILED: ${event.message} — restore by hand: ${event.manualCommand}`,
          tone: 'bad',
        },
      ];
    case 'promoted':
      return [{ tag: 'promoted', text: formatRules(event.rules), tone: 'good' }];
    case 'aborted': {
      const where = event.rules ? ` · traffic ${formatRules(event.rules)}` : ' · traffic unknown';
      return [
        { tag: 'aborted', text: `${stageLabel(state, event.stage)}: ${event.reason}${where}`, tone: 'bad' },
      ];
    }
    case 'rollout_finished': {
      const tone = event.outcome === 'promoted' ? 'good' : event.outcome === 'held' ? 'warn' : 'bad';
      const lines: EventLine[] = [
        { tag: 'result', text: outcomeHeadline(event.outcome, event.summary), tone },
      ];
      if (event.next) lines.push({ tag: '', text: `next: ${event.next}`, tone: 'normal' });
      return lines;
    }
    case 'prompt_eval_started':
    case 'prompt_eval_progress':
    case 'prompt_eval_finished':
    case 'prompt_eval_skipped':
      return describePromptEval(event);
    case 'log':
      return [
        {
          tag: event.level,
          text: event.message,
          tone: event.level === 'error' ? 'bad' : event.level === 'warn' ? 'warn' : 'normal',
        },
      ];
    default: {
      // An event type this build does not know (a newer core): say so rather than drop it.
      const unknown = event as { type?: unknown };
      return [{ tag: 'event', text: String(unknown.type), tone: 'dim' }];
    }
  }
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

/** The pre-traffic evaluation's events (src/evaluation/). */
function describePromptEval(event: PromptEvalEvent): EventLine[] {
  switch (event.type) {
    case 'prompt_eval_started':
      return [
        {
          tag: 'evaluation',
          text: `sending ${event.prompts} prompt${event.prompts === 1 ? '' : 's'}${event.repeat > 1 ? ` × ${event.repeat}` : ''} to ${event.baseline} and ${event.canary}, pinned, ${event.concurrency} at a time${event.judge ? ', then the judge' : ''}; no traffic moves before it passes`,
          tone: 'normal',
        },
      ];
    case 'prompt_eval_progress':
      return [{ tag: 'evaluation', text: `${event.done}/${event.total} answers`, tone: 'dim' }];
    case 'prompt_eval_finished':
      return evaluationLines(event.report).map((line) => ({ tag: 'evaluation', ...line }));
    case 'prompt_eval_skipped':
      return [{ tag: 'evaluation', text: event.detail, tone: event.reason === 'flag' ? 'warn' : 'normal' }];
  }
}
