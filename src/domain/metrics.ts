/**
 * The metrics canary judges and reads, by name: vocabulary the plan, the analysis, the metric
 * sources, the formatter and the reporters share, so none of them imports another for it.
 */

/** Metrics that thresholds and comparisons can judge, named as in the plan file. */
export const JUDGED_METRICS = ['error_rate', 'latency_p50_ms', 'latency_p99_ms', 'cost_per_token'] as const;
export type JudgedMetric = (typeof JUDGED_METRICS)[number];

/** PromQL per metric the Prometheus source reads; `{{version_tag}}`, `{{route}}`, `{{window}}` are filled in. */
export const PROMETHEUS_QUERY_NAMES = [
  'request_count',
  'error_rate',
  'latency_p50_ms',
  'latency_p99_ms',
  'cost_per_token',
] as const;
export type PrometheusQueryName = (typeof PROMETHEUS_QUERY_NAMES)[number];
