/**
 * The report model: what `canary report` shows of one run (its stages, timeline, canary weight
 * over time, per-metric series, rollback and blast radius, and what the input does not record),
 * as plain data that the HTML page and the Mermaid summary chart draw. build-model.ts makes it
 * from a run's records; this file is its shape, which every renderer imports without the builder.
 */
import { formatRules } from '../format.js';
import type { Raw } from './fields.js';

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

/** `base-v1 0%, cand-v2 100%`, as the timeline and the HTML summary both show traffic. */
export const rulesText = (r: RuleView[] | null) => formatRules(r);
