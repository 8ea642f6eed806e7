/**
 * PromQL templates: the default queries, placeholder checks for `canary validate`, and
 * rendering for one read. Pure and shared: the plan schema checks a plan's queries with it and
 * the Prometheus source (src/metrics/) renders them, so neither imports the other.
 */
import type { PrometheusQueryName } from './metrics.js';

export const PLACEHOLDERS = ['version_tag', 'route', 'window'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const SELECTOR = 'route="{{route}}",version_tag="{{version_tag}}"';

/**
 * Defaults for the metric names the emulator exposes (and many relays use): a request counter
 * with a `status` label, a latency histogram in seconds, dollar and token counters. Each
 * answers one number for the window ending at the query time.
 */
export const DEFAULT_QUERIES: Record<PrometheusQueryName, string> = {
  request_count: `sum(increase(relay_requests_total{${SELECTOR}}[{{window}}]))`,
  // `or vector(0)`: a version with no errors yet may have no error series at all, and that is a rate of 0.
  error_rate:
    `(sum(increase(relay_requests_total{${SELECTOR},status="error"}[{{window}}])) or vector(0))` +
    ` / sum(increase(relay_requests_total{${SELECTOR}}[{{window}}]))`,
  latency_p50_ms: `histogram_quantile(0.5, sum by (le) (rate(relay_request_duration_seconds_bucket{${SELECTOR}}[{{window}}]))) * 1000`,
  latency_p99_ms: `histogram_quantile(0.99, sum by (le) (rate(relay_request_duration_seconds_bucket{${SELECTOR}}[{{window}}]))) * 1000`,
  cost_per_token: `sum(increase(relay_cost_dollars_total{${SELECTOR}}[{{window}}])) / sum(increase(relay_tokens_total{${SELECTOR}}[{{window}}]))`,
};

export interface PlaceholderUse {
  name: string;
  /** Offset of `{{` in the template. */
  index: number;
  /** The placeholder as written, e.g. `{{ route }}`. */
  text: string;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function findPlaceholders(template: string): PlaceholderUse[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({ name: m[1] ?? '', index: m.index, text: m[0] }));
}

export interface TemplateProblem {
  message: string;
  /** The offending placeholder, when the problem is one. */
  use?: PlaceholderUse;
}

/** Problems `canary validate` reports for one query template. */
export function checkTemplate(name: string, template: string): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const uses = findPlaceholders(template);
  for (const use of uses) {
    if (!(PLACEHOLDERS as readonly string[]).includes(use.name)) {
      problems.push({
        use,
        message: `unknown placeholder ${use.text} in the ${name} query; known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
      });
    }
  }
  if (!uses.some((u) => u.name === 'version_tag')) {
    problems.push({
      message: `the ${name} query has no {{version_tag}}: without it the canary and the baseline would read the same numbers`,
    });
  }
  return problems;
}

/** A window as a PromQL range: whole seconds when it is some, else milliseconds. */
export function promDuration(ms: number): string {
  const rounded = Math.max(1, Math.round(ms));
  return rounded % 1000 === 0 ? `${rounded / 1000}s` : `${rounded}ms`;
}

/** Escapes a value for a PromQL double-quoted string (label values in the templates). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export interface RenderValues {
  versionTag: string;
  route?: string | undefined;
  windowMs: number;
}

/** Fills the placeholders; throws when a template needs the route and none was given. */
export function renderQuery(template: string, values: RenderValues): string {
  return template.replace(PLACEHOLDER, (whole, rawName: string) => {
    const name = rawName.trim();
    if (name === 'version_tag') return escapeLabelValue(values.versionTag);
    if (name === 'window') return promDuration(values.windowMs);
    if (name === 'route') {
      if (values.route === undefined) throw new Error('the query uses {{route}} but no route was given');
      return escapeLabelValue(values.route);
    }
    // validate rejects unknown placeholders; leave one as written so Prometheus names it.
    return whole;
  });
}
