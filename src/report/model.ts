/**
 * One run's records (journal lines, or `--output-file` / `--output json` NDJSON) turned into what
 * the report shows. Pure: no I/O, no charting. Reads both spellings of a key (`bakeMs` as the
 * journal writes it, `bake_ms` once NDJSON moves to snake_case), so a report can be made from
 * any journal or event stream canary has written, and says what an older one does not record.
 */

import { JUDGED_METRICS } from '../domain/metrics.js';
import { formatRules, formatWeight } from '../format.js';
import { arr, num, obj, pick, type Raw, str } from './fields.js';
import { lacksPerPrompt, PER_PROMPT_SINCE } from './pre-traffic-prompts.js';

/** The journal version canary writes now (src/journal/journal.ts). */
export { RECORD_VERSION as CURRENT_JOURNAL_VERSION } from '../output/record.js';

export type Verdict = string; // pass | fail | no_data | shared_incident | … (newer analyses add more)

export interface RuleView {
  version_tag: string;
  weight: number;
}

export interface StageView {
  index: number;
  weight: number;
  bakeMs: number;
  pause: boolean;
  startedAt: number | null;
  endedAt: number | null;
  status: 'not reached' | 'skipped' | 'passed' | 'failed' | 'ended here';
  evaluations: number;
  checks: { name: string; status: string; output: string }[];
}

export interface TimelineEntry {
  at: number;
  stage: number | null;
  kind:
    | 'stage'
    | 'weights'
    | 'gate'
    | 'operator'
    | 'drift'
    | 'rollback'
    | 'check'
    | 'metrics'
    | 'outcome'
    | 'note';
  label: string;
  detail: string;
}

export interface CheckPoint {
  at: number;
  stage: number;
  id: string;
  kind: string;
  status: Verdict;
  value: number | null;
  baseline: number | null;
  bound: number | null;
  reason: string;
}

export interface MetricView {
  metric: string;
  /** Per evaluation: both versions' values, whether or not a check read them. */
  points: {
    at: number;
    stage: number;
    canary: number | null;
    baseline: number | null;
    verdict: Verdict | null;
  }[];
  /** Threshold bounds seen (usually one). */
  thresholds: number[];
  /** The comparison check's bound per evaluation (baseline × ratio or + increase). */
  comparison: { at: number; bound: number | null }[];
  checks: CheckPoint[];
}

export interface ReportModel {
  source: string;
  run: string | null;
  journalVersion: number | null;
  /** What this input does not record, in sentences a reader can act on. */
  lacks: string[];
  command: string;
  route: string;
  baseline: string | null;
  canary: string | null;
  relay: string | null;
  metricsSource: string | null;
  outcome: string | null;
  exitCode: number | null;
  summary: string | null;
  next: string | null;
  startedAt: number | null;
  endedAt: number | null;
  runBy: Raw | null;
  resumes: string | null;
  traffic: RuleView[] | null;
  stages: StageView[];
  timeline: TimelineEntry[];
  /** Canary weight over time, as set and confirmed. */
  weights: { at: number; weight: number }[];
  rollback: { at: number; stage: number; cause: string; reason: string; durationMs: number | null } | null;
  evaluationCount: number;
  metrics: MetricView[];
  /** The metric whose check decided a rollback, else the first one judged. */
  decidingMetric: string | null;
  blast: {
    canaryRequests: number;
    canaryErrors: number;
    /** Failed canary requests beyond what the baseline's error rate would have failed. */
    excessErrors: number | null;
  } | null;
  plan: Raw | null;
  planFile: string | null;
  planHash: string | null;
  /** Pre-traffic evaluation records (an `evaluation:` stage), as recorded. */
  preTraffic: Raw[];
}

const VERDICT_RANK: Record<string, number> = { fail: 4, shared_incident: 3, no_data: 2, pass: 1 };
const rank = (v: string) => VERDICT_RANK[v] ?? 2.5;

function rules(value: unknown): RuleView[] | null {
  if (!Array.isArray(value)) return null;
  return value.flatMap((r) => {
    const tag = str(pick(obj(r), 'version_tag', 'versionTag'));
    const weight = num(pick(obj(r), 'weight'));
    return tag !== null && weight !== null ? [{ version_tag: tag, weight }] : [];
  });
}

/** `base-v1 0%, cand-v2 100%`, as the timeline and the HTML summary both show traffic. */
export const rulesText = (r: RuleView[] | null) => formatRules(r);

/** Canary requests and errors served, estimated from evaluation windows counted once each. */
function blastRadius(evals: Raw[]): ReportModel['blast'] {
  let requests = 0;
  let errors = 0;
  let excess = 0;
  let excessKnown = true;
  let lastBaseRate: number | null = null;
  let seen = false;
  let coveredTo = Number.NEGATIVE_INFINITY;
  for (const e of evals) {
    const start = num(pick(e, 'windowStart')) ?? 0;
    const end = num(pick(e, 'windowEnd')) ?? 0;
    const c = obj(pick(e, 'canary'));
    const b = obj(pick(e, 'baseline'));
    const n = num(pick(c, 'request_count'));
    if (end <= start || n === null) continue;
    // Trailing windows overlap: count only the part not already counted, at the window's rate.
    const share = Math.max(0, end - Math.max(start, coveredTo)) / (end - start);
    coveredTo = Math.max(coveredTo, end);
    if (share === 0) continue;
    seen = true;
    const rate = num(pick(c, 'error_rate')) ?? 0;
    const served = n * share;
    requests += served;
    errors += served * rate;
    // At 100 % the baseline serves nothing: its last known rate stands in for it.
    const baseRate: number | null = num(pick(b, 'error_rate')) ?? lastBaseRate;
    lastBaseRate = baseRate;
    if (baseRate === null) excessKnown = false;
    else excess += served * (rate - baseRate);
  }
  if (!seen) return null;
  return {
    canaryRequests: Math.round(requests),
    canaryErrors: Math.round(errors),
    excessErrors: excessKnown ? Math.round(excess) : null,
  };
}

function metricNames(evals: Raw[]): string[] {
  const names: string[] = [];
  const add = (m: string) => {
    if (!names.includes(m)) names.push(m);
  };
  for (const e of evals) for (const c of arr(pick(e, 'checks'))) add(str(pick(obj(c), 'metric')) ?? '?');
  // Built-ins first, in their usual order; custom metrics after, as the plan lists them.
  return [
    ...JUDGED_METRICS.filter((m) => names.includes(m)),
    ...names.filter((m) => !(JUDGED_METRICS as readonly string[]).includes(m)),
  ];
}

function metricViews(evals: { at: number; stage: number; ev: Raw }[]): MetricView[] {
  return metricNames(evals.map((e) => e.ev)).map((metric) => {
    const view: MetricView = { metric, points: [], thresholds: [], comparison: [], checks: [] };
    for (const { at, stage, ev } of evals) {
      const checks = arr(pick(ev, 'checks'))
        .map(obj)
        .filter((c) => str(pick(c, 'metric')) === metric);
      let verdict: string | null = null;
      let canary = num(pick(obj(pick(ev, 'canary')), metric));
      let baseline = num(pick(obj(pick(ev, 'baseline')), metric));
      for (const c of checks) {
        const status = str(pick(c, 'status')) ?? 'no_data';
        const kind = str(pick(c, 'kind')) ?? 'threshold';
        const value = num(pick(c, 'value'));
        const base = num(pick(c, 'baseline'));
        const bound = num(pick(c, 'bound'));
        canary = canary ?? value;
        baseline = baseline ?? base;
        if (verdict === null || rank(status) > rank(verdict)) verdict = status;
        if (kind === 'threshold' && bound !== null && !view.thresholds.includes(bound))
          view.thresholds.push(bound);
        if (kind === 'comparison') view.comparison.push({ at, bound });
        view.checks.push({
          at,
          stage,
          id: str(pick(c, 'id')) ?? metric,
          kind,
          status,
          value,
          baseline: base,
          bound,
          reason: str(pick(c, 'reason')) ?? '',
        });
      }
      view.points.push({ at, stage, canary, baseline, verdict });
    }
    return view;
  });
}

export function buildReportModel(records: Raw[], source: string): ReportModel {
  const header = records.find((r) => r.type === 'run_started') ?? null;
  const started = records.find((r) => r.type === 'rollout_started') ?? null;
  const finished = [...records].reverse().find((r) => r.type === 'rollout_finished') ?? null;
  const ended = [...records].reverse().find((r) => r.type === 'run_ended') ?? null;
  // Journals 1–3 say their version in `v`; from 4 on every record says it in `version`, and a
  // journal's records are the ones with a `run` (an --output-file stream has none).
  const versions = records
    .map((r) => num(r.v) ?? (typeof r.run === 'string' ? num(r.version) : null))
    .filter((v): v is number => v !== null);
  const journalVersion = versions.length > 0 ? Math.max(...versions) : null;
  const at = (r: Raw) => num(pick(r, 'at')) ?? 0;

  const stageList = arr(pick(started ?? {}, 'stages')).map(obj);
  const startStage = num(pick(started ?? {}, 'startStage')) ?? 0;
  const stages: StageView[] = stageList.map((s, index) => ({
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
  const stageAt = (i: number | null) => (i === null ? undefined : stages[i]);

  const timeline: TimelineEntry[] = [];
  const weights: ReportModel['weights'] = [];
  const evals: { at: number; stage: number; ev: Raw }[] = [];
  const preTraffic: Raw[] = [];
  let rollback: ReportModel['rollback'] = null;
  let traffic: RuleView[] | null = null;
  const canaryTag = str(pick(started ?? header ?? {}, 'canary'));
  const push = (r: Raw, kind: TimelineEntry['kind'], label: string, detail = '') =>
    timeline.push({ at: at(r), stage: num(pick(r, 'stage')), kind, label, detail });
  const noteWeights = (r: Raw, list: RuleView[] | null) => {
    if (list === null) return;
    traffic = list;
    const w = list.find((x) => x.version_tag === canaryTag)?.weight ?? 0;
    weights.push({ at: at(r), weight: w });
  };

  for (const r of records) {
    const stage = num(pick(r, 'stage'));
    switch (r.type) {
      case 'stage_started': {
        const s = stageAt(stage);
        if (s) {
          s.startedAt = s.startedAt ?? at(r);
          s.status = 'ended here';
        }
        push(r, 'stage', `stage ${(stage ?? 0) + 1} starts: canary ${formatWeight(num(pick(r, 'weight')))}`);
        noteWeights(r, rules(pick(r, 'rules')));
        break;
      }
      case 'weights_set':
        noteWeights(r, rules(pick(r, 'rules')));
        break;
      case 'evaluation': {
        const ev = obj(pick(r, 'evaluation'));
        evals.push({ at: num(pick(ev, 'at')) ?? at(r), stage: stage ?? 0, ev });
        const s = stageAt(stage);
        if (s) s.evaluations++;
        break;
      }
      case 'stage_check': {
        const c = obj(pick(r, 'check'));
        const name = str(pick(c, 'name')) ?? 'check';
        const status = str(pick(c, 'status')) ?? '?';
        stageAt(stage)?.checks.push({ name, status, output: str(pick(c, 'output')) ?? '' });
        push(r, 'check', `check ${name}: ${status}`, status === 'fail' ? (str(pick(c, 'output')) ?? '') : '');
        break;
      }
      case 'stage_passed': {
        const s = stageAt(stage);
        if (s) {
          s.status = 'passed';
          s.endedAt = at(r);
        }
        push(r, 'stage', `stage ${(stage ?? 0) + 1} passed`);
        break;
      }
      case 'paused':
        push(r, 'gate', `gate at stage ${(stage ?? 0) + 1}: waiting for approval`);
        break;
      case 'gate_decision':
        push(r, 'gate', `gate: ${str(pick(r, 'decision'))}`, `by ${str(pick(r, 'by')) ?? 'unknown'}`);
        break;
      case 'control_request': {
        // From another shell (canary promote|pause|resume|abort): who, where and why.
        const who = `${str(pick(r, 'user')) ?? 'someone'}@${str(pick(r, 'host')) ?? '?'} (pid ${num(pick(r, 'pid')) ?? '?'})`;
        const why = str(pick(r, 'reason'));
        const full = pick(r, 'full') === true ? ' --full' : '';
        push(
          r,
          'operator',
          `operator: ${str(pick(r, 'action')) ?? 'request'}${full}`,
          `by ${who}${why ? `; why: ${why}` : ''}`,
        );
        break;
      }
      case 'operator_action':
      case 'control_action':
      case 'operator_command': {
        const who = str(pick(r, 'by')) ?? str(pick(r, 'who')) ?? str(pick(r, 'operator'));
        const why = str(pick(r, 'reason')) ?? str(pick(r, 'why'));
        const detail = [who ? `by ${who}` : '', why ? `why: ${why}` : '', str(pick(r, 'detail')) ?? '']
          .filter(Boolean)
          .join('; ');
        push(r, 'operator', `operator: ${str(pick(r, 'action')) ?? r.type}`, detail);
        break;
      }
      case 'metrics_error':
        push(r, 'metrics', 'metrics unreadable', str(pick(r, 'message')) ?? '');
        break;
      case 'waiting_for_data':
        break;
      case 'rollback_started': {
        const s = stageAt(stage);
        if (s) {
          s.status = 'failed';
          s.endedAt = at(r);
        }
        rollback = {
          at: at(r),
          stage: stage ?? 0,
          cause: str(pick(r, 'cause')) ?? 'unknown',
          reason: str(pick(r, 'reason')) ?? '',
          durationMs: null,
        };
        push(r, 'rollback', `rollback (${rollback.cause})`, rollback.reason);
        break;
      }
      case 'rolled_back': {
        if (rollback) rollback.durationMs = num(pick(r, 'durationMs'));
        noteWeights(r, rules(pick(r, 'rules')));
        push(r, 'rollback', 'rolled back', `traffic: ${rulesText(rules(pick(r, 'rules')))}`);
        break;
      }
      case 'rollback_failed':
        push(
          r,
          'rollback',
          'ROLLBACK FAILED',
          `${str(pick(r, 'message')) ?? ''} — run: ${str(pick(r, 'manualCommand')) ?? ''}`,
        );
        break;
      case 'promoted':
        noteWeights(r, rules(pick(r, 'rules')));
        push(r, 'outcome', 'promoted', `traffic: ${rulesText(rules(pick(r, 'rules')))}`);
        break;
      case 'aborted': {
        const reason = str(pick(r, 'reason')) ?? '';
        const drift = /changed by someone else/.test(reason);
        noteWeights(r, rules(pick(r, 'rules')));
        push(
          r,
          drift ? 'drift' : 'outcome',
          drift ? 'drift: route changed by someone else' : 'aborted',
          reason,
        );
        break;
      }
      case 'rollout_finished':
        if (rules(pick(r, 'traffic'))) traffic = rules(pick(r, 'traffic'));
        push(
          r,
          'outcome',
          `finished: ${str(pick(r, 'outcome'))} (exit ${num(pick(r, 'exitCode'))})`,
          str(pick(r, 'summary')) ?? '',
        );
        break;
      case 'run_ended':
        push(r, 'outcome', `ended (exit ${num(pick(r, 'exitCode'))})`, str(pick(r, 'message')) ?? '');
        break;
      case 'log':
        if (str(pick(r, 'level')) !== 'info')
          push(r, 'note', str(pick(r, 'level')) ?? 'log', str(pick(r, 'message')) ?? '');
        break;
      default:
        // The pre-traffic evaluation (`evaluation:` in the plan): src/report/pre-traffic.ts shows it.
        if (typeof r.type === 'string' && /^prompt_eval_/.test(r.type)) preTraffic.push(r);
        if (r.type === 'prompt_eval_finished') {
          const report = obj(pick(r, 'report'));
          push(
            r,
            'check',
            `pre-traffic evaluation: ${str(pick(report, 'verdict')) ?? '?'}`,
            str(pick(report, 'summary')) ?? '',
          );
        }
        if (r.type === 'prompt_eval_skipped')
          push(r, 'note', 'pre-traffic evaluation skipped', str(pick(r, 'detail')) ?? '');
        break;
    }
  }
  const finishedOutcome = str(pick(finished ?? {}, 'outcome'));
  if (finishedOutcome === 'held' || finishedOutcome === 'interrupted') {
    for (const s of stages)
      if (s.status === 'ended here' && s.endedAt === null) s.endedAt = at(finished as Raw);
  }
  const metrics = metricViews(evals);
  const failing = rollback
    ? metrics.find((m) =>
        m.checks.some((c) => c.status === 'fail' && c.at <= (rollback as { at: number }).at + 1),
      )
    : undefined;
  const last = records.length > 0 ? at(records[records.length - 1] as Raw) : null;
  const lacks: string[] = [];
  if (started === null)
    lacks.push('a rollout_started record (the run ended before its first stage, or this is not a rollout).');
  else {
    if (pick(started, 'plan') === undefined)
      lacks.push(
        `the plan as run (recorded from journal version 2 on): only the plan's path and sha256 are known${header ? '' : ' (not even those: an --output-file stream has no journal header)'}.`,
      );
    if (pick(started, 'run_by') === undefined && header === null)
      lacks.push('who ran it and where (the user, host and CI are recorded from journal version 2 on).');
    else if (pick(started, 'run_by') === undefined)
      lacks.push(
        `the ${header && str(pick(header, 'user')) ? '' : 'user and '}CI that ran it (recorded from journal version 2 on); the host and pid are known.`,
      );
  }
  const evaluated = preTraffic.find((r) => r.type === 'prompt_eval_finished');
  if (evaluated && lacksPerPrompt(obj(pick(evaluated, 'report'))))
    lacks.push(
      `the pre-traffic evaluation's per-prompt results (recorded from journal version ${PER_PROMPT_SINCE} on): only its worst prompts are known.`,
    );
  if (finished === null && ended === null)
    lacks.push('an outcome: the run is still going, or its process died before recording one.');

  return {
    source,
    run: str(pick(records[0] ?? {}, 'run')),
    journalVersion,
    lacks,
    command: str(pick(header ?? {}, 'command')) ?? 'rollout',
    route: str(pick(started ?? header ?? finished ?? {}, 'route')) ?? 'unknown route',
    baseline: str(pick(started ?? header ?? {}, 'baseline')),
    canary: canaryTag,
    relay: str(pick(started ?? header ?? {}, 'relay')),
    metricsSource: str(pick(started ?? {}, 'metricsSource')),
    outcome:
      finishedOutcome ?? (ended ? ((num(pick(ended, 'exitCode')) ?? 1) === 0 ? 'done' : 'failed') : null),
    exitCode: num(pick(finished ?? ended ?? {}, 'exitCode')),
    summary: str(pick(finished ?? {}, 'summary')) ?? str(pick(ended ?? {}, 'message')),
    next: str(pick(finished ?? {}, 'next')),
    startedAt: header ? at(header) : started ? at(started) : null,
    endedAt: last,
    runBy:
      started && pick(started, 'run_by') !== undefined
        ? obj(pick(started, 'run_by'))
        : header
          ? { user: pick(header, 'user'), host: pick(header, 'host'), pid: pick(header, 'pid') }
          : null,
    resumes: str(pick(header ?? {}, 'resumes')),
    traffic,
    stages,
    timeline,
    weights,
    rollback,
    evaluationCount: evals.length,
    metrics,
    decidingMetric: failing?.metric ?? metrics[0]?.metric ?? null,
    blast: blastRadius(evals.map((e) => e.ev)),
    plan: started && pick(started, 'plan') !== undefined ? obj(pick(started, 'plan')) : null,
    planFile: str(pick(header ?? {}, 'plan')),
    planHash: str(pick(header ?? {}, 'planHash')),
    preTraffic,
  };
}
