/**
 * A journal's records folded into runs: one RunSummary per run (outcome, furthest stage, last
 * traffic, the decisive check, operator requests), which `history`, `status`, resume and
 * `canary rollback` show or act on. Pure: records in, summaries out; reader.ts does the files.
 */
import type { RouteRule } from '../domain/relay.js';
import type { JournalRecord, RunHeader } from './records.js';

/** One run as the journal tells it. */
export interface RunSummary {
  run: string;
  command: 'rollout' | 'rollback';
  route: string;
  header: RunHeader;
  startedAt: number;
  /** Last record's time. */
  lastAt: number;
  /** Null while (or when it never got to) recording an outcome: the process died or is running. */
  outcome: string | null;
  exitCode: number | null;
  durationMs: number;
  /** 0-based furthest stage whose weights were set, or null. */
  stage: number | null;
  stageCount: number | null;
  /** The route's rules as last recorded. */
  rules: RouteRule[] | null;
  /** The check or reason that decided the outcome, in one line. */
  decisive: string | null;
  summary: string | null;
  next: string | null;
  /** Requests from other shells (`canary promote|pause|resume|abort`), oldest first. */
  control: {
    at: number;
    action: string;
    full: boolean;
    reason: string | null;
    user: string;
    host: string;
    pid: number;
  }[];
}

function decisiveOf(records: JournalRecord[]): string | null {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i] as JournalRecord;
    if (r.type === 'rollback_started') return `${r.cause}: ${r.reason}`;
    if (r.type === 'aborted') return r.reason;
    if (r.type === 'run_ended') return r.message;
    if (r.type === 'gate_decision' && r.decision !== 'promote') return `gate: ${r.decision} by ${r.by}`;
  }
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i] as JournalRecord;
    if (r.type === 'evaluation') {
      const checks = r.evaluation.checks.map((c) => `${c.id} ${c.status}`).join(', ');
      return `last evaluation ${r.evaluation.verdict} at stage ${r.stage + 1}${checks ? ` (${checks})` : ''}`;
    }
  }
  return null;
}

export function summarizeRuns(records: JournalRecord[]): RunSummary[] {
  const byRun = new Map<string, JournalRecord[]>();
  for (const r of records) {
    const list = byRun.get(r.run);
    if (list) list.push(r);
    else byRun.set(r.run, [r]);
  }
  const runs: RunSummary[] = [];
  for (const [run, list] of byRun) {
    const summary = summarizeRun(run, list);
    if (summary) runs.push(summary);
  }
  return runs.sort((a, b) => a.startedAt - b.startedAt);
}

/** One run's records folded in order; undefined when its header was lost (a torn first line). */
function summarizeRun(run: string, list: JournalRecord[]): RunSummary | undefined {
  const header = list.find((r) => r.type === 'run_started') as (RunHeader & JournalRecord) | undefined;
  if (!header) return undefined;
  const last = list[list.length - 1] as JournalRecord;
  const summary: RunSummary = {
    run,
    command: header.command,
    route: header.route,
    header,
    startedAt: header.at,
    lastAt: last.at,
    outcome: null,
    exitCode: null,
    durationMs: last.at - header.at,
    stage: null,
    stageCount: null,
    rules: null,
    decisive: decisiveOf(list),
    summary: null,
    next: null,
    control: [],
  };
  for (const r of list) foldRecord(summary, r);
  return summary;
}

/** What one record changes in its run's summary: the later record wins, the engine's outcome over run_ended's. */
function foldRecord(s: RunSummary, r: JournalRecord): void {
  switch (r.type) {
    case 'control_request':
      s.control.push({
        at: r.at,
        action: r.action,
        full: r.full === true,
        reason: r.reason ?? null,
        user: r.user,
        host: r.host,
        pid: r.pid,
      });
      break;
    case 'rollout_started':
      s.stageCount = r.stages.length;
      break;
    case 'stage_started':
      s.stage = s.stage === null ? r.stage : Math.max(s.stage, r.stage);
      s.rules = r.rules;
      break;
    case 'weights_set':
    case 'rolled_back':
    case 'promoted':
      s.rules = r.rules;
      break;
    case 'aborted':
      if (r.rules) s.rules = r.rules;
      break;
    case 'rollout_finished':
      s.outcome = r.outcome;
      s.exitCode = r.exitCode;
      if (r.traffic) s.rules = r.traffic;
      s.summary = r.summary;
      s.next = r.next ?? null;
      break;
    case 'run_ended':
      s.outcome = s.outcome ?? (r.exitCode === 0 ? 'done' : 'failed');
      s.exitCode = s.exitCode ?? r.exitCode;
      s.summary = s.summary ?? r.message;
      break;
    default:
      break;
  }
}

/** The latest rollout run of a route's journal, if any. */
export function lastRollout(runs: RunSummary[]): RunSummary | undefined {
  for (let i = runs.length - 1; i >= 0; i--) {
    const run = runs[i] as RunSummary;
    if (run.command === 'rollout') return run;
  }
  return undefined;
}
