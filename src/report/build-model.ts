/**
 * One run's records (journal lines, or `--output-file` / `--output json` NDJSON) turned into the
 * report model (model.ts). Pure: no I/O, no charting. Reads both spellings of a key (`bakeMs` as
 * the journal writes it, `bake_ms` once NDJSON moves to snake_case), so a report can be made from
 * any journal or event stream canary has written, and says what an older one does not record.
 * This file finds the run's landmark records and assembles the model; the walk through the
 * records is record-walk.ts, the per-metric series metric-views.ts, the gaps lacks.ts.
 */
import { num, obj, pick, type Raw, str } from './fields.js';
import { whatIsLacking } from './lacks.js';
import { blastRadius, metricViews } from './metric-views.js';
import type { ReportModel } from './model.js';
import { walkRecords } from './record-walk.js';

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
  const canaryTag = str(pick(started ?? header ?? {}, 'canary'));
  const { stages, timeline, weights, evals, preTraffic, rollback, traffic } = walkRecords(
    records,
    started,
    canaryTag,
  );

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

  return {
    source,
    run: str(pick(records[0] ?? {}, 'run')),
    journalVersion,
    lacks: whatIsLacking({ header, started, finished, ended, preTraffic }),
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
