/**
 * One walk through a run's records, in order: the stages as they went (started, passed, failed,
 * skipped), the timeline a reader scans, the canary weight over time, the traffic as last set,
 * the rollback, and the evaluation and pre-traffic records that metric-views.ts and the
 * pre-traffic section read. One function per family of records (stage, operator, ending), so
 * each switch can be read at a glance.
 */
import { formatWeight } from '../format.js';
import { arr, num, obj, pick, type Raw, str } from './fields.js';
import type { EvaluationAt } from './metric-views.js';
import { type ReportModel, type RuleView, rulesText, type StageView, type TimelineEntry } from './model.js';

export interface RunWalk {
  stages: StageView[];
  timeline: TimelineEntry[];
  /** Canary weight over time, as set and confirmed. */
  weights: ReportModel['weights'];
  evals: EvaluationAt[];
  /** Pre-traffic evaluation records (an `evaluation:` stage), as recorded. */
  preTraffic: Raw[];
  rollback: ReportModel['rollback'];
  traffic: RuleView[] | null;
}

interface Walk extends RunWalk {
  canaryTag: string | null;
}

const at = (r: Raw) => num(pick(r, 'at')) ?? 0;

function rules(value: unknown): RuleView[] | null {
  if (!Array.isArray(value)) return null;
  return value.flatMap((r) => {
    const tag = str(pick(obj(r), 'version_tag', 'versionTag'));
    const weight = num(pick(obj(r), 'weight'));
    return tag !== null && weight !== null ? [{ version_tag: tag, weight }] : [];
  });
}

/** The plan's stages as `rollout_started` lists them, none reached yet (those before a resume: skipped). */
function initialStages(started: Raw | null): StageView[] {
  const stageList = arr(pick(started ?? {}, 'stages')).map(obj);
  const startStage = num(pick(started ?? {}, 'startStage')) ?? 0;
  return stageList.map((s, index) => ({
    index,
    weight: num(pick(s, 'weight')) ?? 0,
    bakeMs: num(pick(s, 'bakeMs')) ?? 0,
    pause: pick(s, 'pause') === true,
    startedAt: null,
    endedAt: null,
    status: index < startStage ? 'skipped' : 'not reached',
    evaluations: 0,
    checks: [],
  }));
}

export function walkRecords(records: Raw[], started: Raw | null, canaryTag: string | null): RunWalk {
  const w: Walk = {
    stages: initialStages(started),
    timeline: [],
    weights: [],
    evals: [],
    preTraffic: [],
    rollback: null,
    traffic: null,
    canaryTag,
  };
  for (const r of records) {
    const stage = num(pick(r, 'stage'));
    if (!stageRecord(w, r, stage) && !operatorRecord(w, r) && !endingRecord(w, r, stage)) otherRecord(w, r);
  }
  const { stages, timeline, weights, evals, preTraffic, rollback, traffic } = w;
  return { stages, timeline, weights, evals, preTraffic, rollback, traffic };
}

function stageAt(w: Walk, i: number | null): StageView | undefined {
  return i === null ? undefined : w.stages[i];
}

function push(w: Walk, r: Raw, kind: TimelineEntry['kind'], label: string, detail = ''): void {
  w.timeline.push({ at: at(r), stage: num(pick(r, 'stage')), kind, label, detail });
}

function noteWeights(w: Walk, r: Raw, list: RuleView[] | null): void {
  if (list === null) return;
  w.traffic = list;
  const weight = list.find((x) => x.version_tag === w.canaryTag)?.weight ?? 0;
  w.weights.push({ at: at(r), weight });
}

/** A stage's life: started, weights set, evaluated, checked, passed. False: not one of these. */
function stageRecord(w: Walk, r: Raw, stage: number | null): boolean {
  switch (r.type) {
    case 'stage_started': {
      const s = stageAt(w, stage);
      if (s) {
        s.startedAt = s.startedAt ?? at(r);
        s.status = 'ended here';
      }
      push(w, r, 'stage', `stage ${(stage ?? 0) + 1} starts: canary ${formatWeight(num(pick(r, 'weight')))}`);
      noteWeights(w, r, rules(pick(r, 'rules')));
      return true;
    }
    case 'weights_set':
      noteWeights(w, r, rules(pick(r, 'rules')));
      return true;
    case 'evaluation': {
      const ev = obj(pick(r, 'evaluation'));
      w.evals.push({ at: num(pick(ev, 'at')) ?? at(r), stage: stage ?? 0, ev });
      const s = stageAt(w, stage);
      if (s) s.evaluations++;
      return true;
    }
    case 'stage_check': {
      const c = obj(pick(r, 'check'));
      const name = str(pick(c, 'name')) ?? 'check';
      const status = str(pick(c, 'status')) ?? '?';
      stageAt(w, stage)?.checks.push({ name, status, output: str(pick(c, 'output')) ?? '' });
      push(
        w,
        r,
        'check',
        `check ${name}: ${status}`,
        status === 'fail' ? (str(pick(c, 'output')) ?? '') : '',
      );
      return true;
    }
    case 'stage_passed': {
      const s = stageAt(w, stage);
      if (s) {
        s.status = 'passed';
        s.endedAt = at(r);
      }
      push(w, r, 'stage', `stage ${(stage ?? 0) + 1} passed`);
      return true;
    }
    default:
      return false;
  }
}

/** What people and the outside did meanwhile: gates, operator requests, unreadable metrics, logs. */
function operatorRecord(w: Walk, r: Raw): boolean {
  const stage = num(pick(r, 'stage'));
  switch (r.type) {
    case 'paused':
      push(w, r, 'gate', `gate at stage ${(stage ?? 0) + 1}: waiting for approval`);
      return true;
    case 'gate_decision':
      push(w, r, 'gate', `gate: ${str(pick(r, 'decision'))}`, `by ${str(pick(r, 'by')) ?? 'unknown'}`);
      return true;
    case 'control_request': {
      // From another shell (canary promote|pause|resume|abort): who, where and why.
      const who = `${str(pick(r, 'user')) ?? 'someone'}@${str(pick(r, 'host')) ?? '?'} (pid ${num(pick(r, 'pid')) ?? '?'})`;
      const why = str(pick(r, 'reason'));
      const full = pick(r, 'full') === true ? ' --full' : '';
      push(
        w,
        r,
        'operator',
        `operator: ${str(pick(r, 'action')) ?? 'request'}${full}`,
        `by ${who}${why ? `; why: ${why}` : ''}`,
      );
      return true;
    }
    case 'operator_action':
    case 'control_action':
    case 'operator_command': {
      const who = str(pick(r, 'by')) ?? str(pick(r, 'who')) ?? str(pick(r, 'operator'));
      const why = str(pick(r, 'reason')) ?? str(pick(r, 'why'));
      const detail = [who ? `by ${who}` : '', why ? `why: ${why}` : '', str(pick(r, 'detail')) ?? '']
        .filter(Boolean)
        .join('; ');
      push(w, r, 'operator', `operator: ${str(pick(r, 'action')) ?? r.type}`, detail);
      return true;
    }
    case 'metrics_error':
      push(w, r, 'metrics', 'metrics unreadable', str(pick(r, 'message')) ?? '');
      return true;
    case 'waiting_for_data':
      return true;
    case 'log':
      if (str(pick(r, 'level')) !== 'info')
        push(w, r, 'note', str(pick(r, 'level')) ?? 'log', str(pick(r, 'message')) ?? '');
      return true;
    default:
      return false;
  }
}

/** How the run ended: rollback (started, done, failed), promotion, abort, the outcome records. */
function endingRecord(w: Walk, r: Raw, stage: number | null): boolean {
  switch (r.type) {
    case 'rollback_started': {
      const s = stageAt(w, stage);
      if (s) {
        s.status = 'failed';
        s.endedAt = at(r);
      }
      const rollback = {
        at: at(r),
        stage: stage ?? 0,
        cause: str(pick(r, 'cause')) ?? 'unknown',
        reason: str(pick(r, 'reason')) ?? '',
        durationMs: null,
      };
      w.rollback = rollback;
      push(w, r, 'rollback', `rollback (${rollback.cause})`, rollback.reason);
      return true;
    }
    case 'rolled_back': {
      if (w.rollback) w.rollback.durationMs = num(pick(r, 'durationMs'));
      noteWeights(w, r, rules(pick(r, 'rules')));
      push(w, r, 'rollback', 'rolled back', `traffic: ${rulesText(rules(pick(r, 'rules')))}`);
      return true;
    }
    case 'rollback_failed':
      push(
        w,
        r,
        'rollback',
        'ROLLBACK FAILED',
        `${str(pick(r, 'message')) ?? ''} — run: ${str(pick(r, 'manualCommand')) ?? ''}`,
      );
      return true;
    case 'promoted':
      noteWeights(w, r, rules(pick(r, 'rules')));
      push(w, r, 'outcome', 'promoted', `traffic: ${rulesText(rules(pick(r, 'rules')))}`);
      return true;
    case 'aborted': {
      const reason = str(pick(r, 'reason')) ?? '';
      const drift = /changed by someone else/.test(reason);
      noteWeights(w, r, rules(pick(r, 'rules')));
      push(
        w,
        r,
        drift ? 'drift' : 'outcome',
        drift ? 'drift: route changed by someone else' : 'aborted',
        reason,
      );
      return true;
    }
    case 'rollout_finished':
      if (rules(pick(r, 'traffic'))) w.traffic = rules(pick(r, 'traffic'));
      push(
        w,
        r,
        'outcome',
        `finished: ${str(pick(r, 'outcome'))} (exit ${num(pick(r, 'exitCode'))})`,
        str(pick(r, 'summary')) ?? '',
      );
      return true;
    case 'run_ended':
      push(w, r, 'outcome', `ended (exit ${num(pick(r, 'exitCode'))})`, str(pick(r, 'message')) ?? '');
      return true;
    default:
      return false;
  }
}

/** The pre-traffic evaluation (`evaluation:` in the plan), which src/report/pre-traffic.ts shows. */
function otherRecord(w: Walk, r: Raw): void {
  if (typeof r.type === 'string' && /^prompt_eval_/.test(r.type)) w.preTraffic.push(r);
  if (r.type === 'prompt_eval_finished') {
    const report = obj(pick(r, 'report'));
    push(
      w,
      r,
      'check',
      `pre-traffic evaluation: ${str(pick(report, 'verdict')) ?? '?'}`,
      str(pick(report, 'summary')) ?? '',
    );
  }
  if (r.type === 'prompt_eval_skipped')
    push(w, r, 'note', 'pre-traffic evaluation skipped', str(pick(r, 'detail')) ?? '');
}
