/**
 * User-defined metrics (`analysis.metrics:` in a plan): each read per version over the same
 * window as the built-in ones, from PromQL or from an HTTP JSON API, and judged by the same
 * evaluation, or only shown and journaled (`dry_run: true`). JSON field names are snake_case.
 * What the plan says of each (CustomMetricConfig, its source and rule) is in src/domain/plan.ts.
 */

/** One version's value of one metric: a number, no data (with why), or a failed read. */
export type CustomValue = { value: number | null; note?: string | undefined } | { error: string };

/** name → value, for one version and window. */
export type CustomValues = Record<string, CustomValue>;

export interface CustomQuery {
  versionTag: string;
  route: string;
  start: number;
  end: number;
}

/**
 * Reads every custom metric for one version. Resolves with each metric's value, a failure
 * included; rejects only when a metric that can fail a check (not dry-run) could not be read,
 * which the engine counts as a failed metrics read like any other.
 */
export interface CustomMetricsPort {
  read(query: CustomQuery, call?: { signal?: AbortSignal | undefined }): Promise<CustomValues>;
}
