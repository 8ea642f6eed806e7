/**
 * The placeholders an HTTP metric source's URL and body may use (`{{version_tag}}`, `{{start}}`…),
 * apart from the source itself (./http-source.ts) so that reading a plan, which checks the names,
 * does not load the HTTP client and its JSONPath library (`canary validate` starts faster).
 */
import type { CustomQuery } from './types.js';

/** The values a template may use: the query's, in the forms APIs usually take. */
export function placeholderValues(q: CustomQuery): Record<string, string> {
  return {
    version_tag: q.versionTag,
    route: q.route,
    window: `${Math.max(1, Math.round((q.end - q.start) / 1000))}s`,
    window_seconds: String(Math.max(1, Math.round((q.end - q.start) / 1000))),
    start: new Date(q.start).toISOString(),
    end: new Date(q.end).toISOString(),
    start_ms: String(q.start),
    end_ms: String(q.end),
  };
}

/**
 * The names placeholderValues fills, written out: computing them calls Date's toISOString, whose
 * first use costs ≈ 0.2 ms, and reading a plan (every `canary validate`) needs only the names.
 * test/custom-metrics/http-source.test.ts holds the two to the same list.
 */
export const HTTP_PLACEHOLDERS: readonly string[] = [
  'version_tag',
  'route',
  'window',
  'window_seconds',
  'start',
  'end',
  'start_ms',
  'end_ms',
];
