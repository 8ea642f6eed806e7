/**
 * `analysis:` in a plan: timing, thresholds, the baseline comparison and significance, read with
 * the walker; the metrics source and custom metrics have modules of their own.
 */
import { JUDGED_METRICS, type JudgedMetric } from '../domain/metrics.js';
import type { AnalysisConfig, ComparisonRule, SignificanceConfig, ThresholdRule } from '../domain/plan.js';
import { formatPlanDuration as formatDuration } from '../format.js';
import { readCustomMetrics } from './metrics-schema.js';
import { readMetricsSource } from './metrics-source-schema.js';
import { DEFAULTS, KEYS, SIGNIFICANCE_DEFAULTS } from './plan-keys.js';
import { type Entry, type Fields, optionalMapping, type PlanReader } from './reader.js';

const FACTOR_PATTERN = /^(\d+(?:\.\d+)?)x$/;

export function readAnalysis(r: PlanReader, entry: Entry | undefined): AnalysisConfig | undefined {
  const fields = optionalMapping(r, entry, KEYS.analysis);
  if (entry && !fields) return undefined;
  const timing = readTiming(r, fields);
  let ok = timing !== undefined;
  const minRequests = wholeAtLeastOne(r, fields, 'min_requests', DEFAULTS.minRequests);
  // The default depends on significance, read below; 0 stands for "not given" until then.
  const failureLimitGiven = wholeAtLeastOne(r, fields, 'failure_limit', 0);
  const holdEntry = r.optional(fields, 'hold_deadline');
  const holdDeadline = r.duration(holdEntry, { positive: true });
  if (holdEntry && holdDeadline === undefined) ok = false;
  const maxMetricErrors = wholeAtLeastOne(r, fields, 'max_metric_errors', DEFAULTS.maxMetricErrors);
  const factor = readDataDeadline(r, fields);
  if (factor === undefined) ok = false;

  const customEntry = r.optional(fields, 'metrics');
  const customMetrics = readCustomMetrics(r, customEntry, minRequests ?? DEFAULTS.minRequests);
  if (customMetrics === false) ok = false;
  const promqlMetrics = customMetrics ? customMetrics.filter((m) => m.source.kind === 'prometheus') : [];
  const source = readMetricsSource(r, fields, promqlMetrics.length > 0 ? customEntry : undefined);
  if (source === undefined) ok = false;
  const policyEntry = r.optional(fields, 'on_metric_errors');
  const onMetricErrors = policyEntry
    ? r.oneOf(policyEntry, ['rollback', 'hold'], 'rollback or hold')
    : DEFAULTS.onMetricErrors;
  if (onMetricErrors === undefined) ok = false;

  const thresholds = readThresholds(r, fields);
  const compared = readComparison(r, fields);
  if (!thresholds || !compared) ok = false;
  const significance = compared?.significance;

  if (
    !ok ||
    !timing ||
    minRequests === undefined ||
    failureLimitGiven === undefined ||
    maxMetricErrors === undefined ||
    factor === undefined ||
    onMetricErrors === undefined
  ) {
    return undefined;
  }
  const failureLimit =
    failureLimitGiven > 0
      ? failureLimitGiven
      : significance
        ? DEFAULTS.failureLimitWithSignificance
        : DEFAULTS.failureLimit;
  return {
    intervalMs: timing.intervalMs,
    windowMs: timing.windowMs,
    minRequests,
    failureLimit,
    holdDeadlineMs: holdDeadline ?? DEFAULTS.holdDeadlineMs,
    dataDeadlineFactor: factor,
    maxMetricErrors,
    onMetricErrors,
    thresholds: thresholds ?? {},
    baselineComparison: compared?.comparison ?? {},
    ...(significance ? { significance } : {}),
    ...source,
    ...(customMetrics && customMetrics.length > 0 ? { customMetrics } : {}),
  };
}

/** `interval` and `window` (a window at least an interval long); undefined when a problem was reported. */
function readTiming(
  r: PlanReader,
  fields: Fields | undefined,
): { intervalMs: number; windowMs: number } | undefined {
  const intervalEntry = r.optional(fields, 'interval');
  const windowEntry = r.optional(fields, 'window');
  const interval = r.duration(intervalEntry, { positive: true });
  const window = r.duration(windowEntry, { positive: true });
  const intervalMs = interval ?? DEFAULTS.intervalMs;
  const windowMs = window ?? DEFAULTS.windowMs;
  if ((intervalEntry && interval === undefined) || (windowEntry && window === undefined)) return undefined;
  if (windowMs < intervalMs) {
    const at = windowEntry ?? intervalEntry;
    const windowText = `${formatDuration(windowMs)}${windowEntry ? '' : ', the default'}`;
    const intervalText = `${formatDuration(intervalMs)}${intervalEntry ? '' : ', the default'}`;
    if (at) {
      r.problem(at, `analysis.window (${windowText}) must be at least analysis.interval (${intervalText})`);
    }
    return undefined;
  }
  return { intervalMs, windowMs };
}

/** A whole number of at least 1, or the fallback when absent; undefined when a problem was reported. */
function wholeAtLeastOne(
  r: PlanReader,
  fields: Fields | undefined,
  key: string,
  fallback: number,
): number | undefined {
  const e = r.optional(fields, key);
  if (!e) return fallback;
  return r.number(e, 'a whole number of at least 1', (v) => Number.isSafeInteger(v) && v >= 1);
}

/** `data_deadline`: a multiple of the bake like 2x; undefined when a problem was reported. */
function readDataDeadline(r: PlanReader, fields: Fields | undefined): number | undefined {
  const deadlineEntry = r.optional(fields, 'data_deadline');
  if (!deadlineEntry) return DEFAULTS.dataDeadlineFactor;
  const text = r.text(deadlineEntry);
  const match = text === undefined ? null : FACTOR_PATTERN.exec(text);
  const parsed = match ? Number(match[1]) : Number.NaN;
  if (Number.isFinite(parsed) && parsed >= 1) return parsed;
  r.fail(deadlineEntry, 'a multiple of the bake like 2x (at least 1x)');
  return undefined;
}

/** `analysis.thresholds`: a fixed `max` per metric; undefined when a problem was reported. */
function readThresholds(
  r: PlanReader,
  fields: Fields | undefined,
): Partial<Record<JudgedMetric, ThresholdRule>> | undefined {
  let ok = true;
  const thresholds: Partial<Record<JudgedMetric, ThresholdRule>> = {};
  const thresholdFields = optionalMapping(r, r.optional(fields, 'thresholds'), JUDGED_METRICS);
  for (const [metric, e] of thresholdFields?.entries ?? []) {
    const rule = r.mapping(e, KEYS.threshold);
    const maxEntry = r.required(rule, 'max');
    const max =
      metric === 'error_rate'
        ? r.number(maxEntry, 'a number between 0 and 1', (n) => n >= 0 && n <= 1)
        : r.number(maxEntry, 'a number of at least 0', (n) => n >= 0);
    if (max === undefined) ok = false;
    else thresholds[metric as JudgedMetric] = { max };
  }
  return ok ? thresholds : undefined;
}

/**
 * `analysis.baseline_comparison`: a rule per metric against the baseline, and `significance`;
 * undefined when a problem was reported.
 */
function readComparison(
  r: PlanReader,
  fields: Fields | undefined,
):
  | { comparison: Partial<Record<JudgedMetric, ComparisonRule>>; significance?: SignificanceConfig }
  | undefined {
  let ok = true;
  const comparison: Partial<Record<JudgedMetric, ComparisonRule>> = {};
  const comparisonFields = optionalMapping(r, r.optional(fields, 'baseline_comparison'), [
    ...JUDGED_METRICS,
    'significance',
  ]);
  let significance: SignificanceConfig | undefined;
  for (const [metric, e] of comparisonFields?.entries ?? []) {
    if (metric === 'significance') {
      const read = readSignificance(r, e);
      if (read === false) ok = false;
      else significance = read;
      continue;
    }
    const ruleFields = r.mapping(e, KEYS.comparison);
    if (!ruleFields) {
      ok = false;
      continue;
    }
    const increaseEntry = r.optional(ruleFields, 'max_increase');
    const ratioEntry = r.optional(ruleFields, 'max_ratio');
    const floorEntry = r.optional(ruleFields, 'floor');
    const rule: ComparisonRule = {};
    // An amount above the baseline (max_increase, floor): a fraction for error rates.
    const amount = (amountEntry: Entry | undefined) =>
      metric === 'error_rate'
        ? r.number(amountEntry, 'a number between 0 and 1', (n) => n >= 0 && n <= 1)
        : r.number(amountEntry, 'a number of at least 0', (n) => n >= 0);
    const increase = amount(increaseEntry);
    const ratio = r.number(ratioEntry, 'a ratio above 0', (n) => n > 0);
    const floor = amount(floorEntry);
    if (
      (increaseEntry && increase === undefined) ||
      (ratioEntry && ratio === undefined) ||
      (floorEntry && floor === undefined)
    ) {
      ok = false;
    }
    if (increase !== undefined) rule.max_increase = increase;
    if (ratio !== undefined) rule.max_ratio = ratio;
    if (floor !== undefined) rule.floor = floor;
    if (!increaseEntry && !ratioEntry) {
      r.problem(e, `${e.path}: expected max_increase or max_ratio (or both)`);
      ok = false;
    }
    comparison[metric as JudgedMetric] = rule;
  }
  if (!ok) return undefined;
  return significance ? { comparison, significance } : { comparison };
}

/**
 * `significance: true`, or `{ enabled, confidence, min_windows }`; undefined when off, false
 * when a problem was reported.
 */
function readSignificance(r: PlanReader, entry: Entry): SignificanceConfig | undefined | false {
  if (r.isNull(entry)) return undefined;
  const v = r.scalar(entry);
  if (typeof v === 'boolean') return v ? { ...SIGNIFICANCE_DEFAULTS } : undefined;
  const fields = r.mapping(entry, KEYS.significance);
  if (!fields) return false;
  const enabledEntry = r.optional(fields, 'enabled');
  const enabled = enabledEntry ? r.boolean(enabledEntry) : true;
  const confidenceEntry = r.optional(fields, 'confidence');
  const confidence = confidenceEntry
    ? r.number(
        confidenceEntry,
        'a confidence between 0.5 and 0.999, e.g. 0.95',
        (n) => n >= 0.5 && n <= 0.999,
      )
    : SIGNIFICANCE_DEFAULTS.confidence;
  const windowsEntry = r.optional(fields, 'min_windows');
  const minWindows = windowsEntry
    ? r.number(windowsEntry, 'a whole number of at least 2', (n) => Number.isSafeInteger(n) && n >= 2)
    : SIGNIFICANCE_DEFAULTS.minWindows;
  if (enabled === undefined || confidence === undefined || minWindows === undefined) return false;
  return enabled ? { confidence, minWindows } : undefined;
}
