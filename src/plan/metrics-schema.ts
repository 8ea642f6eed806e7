/**
 * `analysis.metrics:` in a plan: user-defined metrics (src/custom-metrics/), read with the plan
 * walker so every problem is reported at its line:column. Secrets are refused everywhere but
 * in env var names: a header that looks like a credential must come from `{env: NAME}`.
 */
import { HTTP_PLACEHOLDERS } from '../custom-metrics/placeholders.js';
import {
  type CustomMetricConfig,
  type CustomSource,
  type HttpHeader,
  type MetricRule,
  RULE_KEYS,
  type RuleKey,
} from '../domain/plan.js';
import { checkTemplate } from '../domain/promql.js';
import { type Entry, type Fields, looksLikeSecretKey, type PlanReader } from './reader.js';

export const CUSTOM_METRIC_KEYS = {
  metric: ['name', 'query', 'http', 'min_requests', 'dry_run', ...RULE_KEYS],
  http: ['url', 'method', 'headers', 'body', 'value'],
  header: ['env', 'prefix'],
} as const;
export const CUSTOM_METRIC_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const SECRET_HEADER = /authorization|api[-_]?key|token|secret|password|cookie/i;

function readHeaders(r: PlanReader, entry: Entry): HttpHeader[] | undefined {
  const pairs = r.pairs(entry);
  if (pairs === undefined) return r.fail(entry, 'a mapping of header names to values or {env: VAR}');
  const headers: HttpHeader[] = [];
  let ok = true;
  for (const { key, entry: value } of pairs) {
    const name = key === undefined ? '' : String(key);
    const { path } = value;
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      r.problem(value, `${path}: not a valid HTTP header name`);
      ok = false;
      continue;
    }
    if (r.kind(value) === 'map') {
      const fields = r.mapping(value, CUSTOM_METRIC_KEYS.header);
      const envEntry = r.required(fields, 'env');
      const env = r.envName(envEntry, 'the name of an environment variable (not the secret itself)');
      const prefix = r.optional(fields, 'prefix');
      const prefixText = prefix && r.kind(prefix) === 'scalar' ? String(r.scalar(prefix)) : undefined;
      if (env === undefined) ok = false;
      else headers.push({ name, env, ...(prefixText !== undefined ? { prefix: prefixText } : {}) });
      continue;
    }
    if (SECRET_HEADER.test(name) || looksLikeSecretKey(name)) {
      // The value is not echoed: it may be the secret.
      r.problem(
        value,
        `${path}: a credential never goes in a plan; write {env: VAR} (and prefix: "Bearer " if needed)`,
      );
      ok = false;
      continue;
    }
    const text = r.string(value, 'a header value, or {env: VAR}');
    if (text === undefined) ok = false;
    else headers.push({ name, value: text });
  }
  return ok ? headers : undefined;
}

function readHttp(r: PlanReader, entry: Entry): Extract<CustomSource, { kind: 'http' }> | undefined {
  const fields = r.mapping(entry, CUSTOM_METRIC_KEYS.http);
  if (!fields) return undefined;
  let ok = true;
  const urlEntry = r.required(fields, 'url');
  const urlText = r.string(urlEntry, 'an http(s) URL');
  if (urlText !== undefined && urlEntry) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(urlText.replace(/\{\{[^}]*\}\}/g, 'x'));
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      r.problem(
        urlEntry,
        `${urlEntry.path}: expected an http(s) URL like https://scores.example.com/api?version={{version_tag}}`,
      );
      ok = false;
    } else if (
      parsed.username ||
      parsed.password ||
      [...parsed.searchParams.keys()].some((k) => SECRET_HEADER.test(k))
    ) {
      r.problem(
        urlEntry,
        `${urlEntry.path}: no credentials in the URL; send them in a header from {env: VAR}`,
      );
      ok = false;
    } else if (/\{\{/.test(urlText.split('/').slice(0, 3).join('/'))) {
      r.problem(urlEntry, `${urlEntry.path}: the host cannot be a placeholder`);
      ok = false;
    }
    for (const m of urlText.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)) {
      if (!HTTP_PLACEHOLDERS.includes(m[1] ?? '')) {
        r.problemWithin(
          urlEntry,
          m[0],
          `${urlEntry.path}: unknown placeholder ${m[0]}; known: ${HTTP_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
        );
        ok = false;
      }
    }
  } else ok = false;
  let method: 'GET' | 'POST' = 'GET';
  const methodEntry = r.optional(fields, 'method');
  if (methodEntry) {
    const text = r.kind(methodEntry) === 'scalar' ? String(r.scalar(methodEntry)).toUpperCase() : '';
    if (text === 'GET' || text === 'POST') method = text;
    else {
      r.fail(methodEntry, 'GET or POST');
      ok = false;
    }
  }
  const headersEntry = r.optional(fields, 'headers');
  const headers = headersEntry ? readHeaders(r, headersEntry) : [];
  if (!headers) ok = false;
  const bodyEntry = r.optional(fields, 'body');
  const body = bodyEntry ? r.json(bodyEntry) : undefined;
  if (bodyEntry && body === undefined) ok = false;
  if (bodyEntry && method !== 'POST') {
    r.problemAtKey(bodyEntry, `${bodyEntry.path}: a body is sent only with method: POST`);
    ok = false;
  }
  const path = r.string(r.required(fields, 'value'), 'a JSONPath to the number, like $.data.mean');
  if (path !== undefined && !path.startsWith('$')) {
    r.problem(
      fields.entries.get('value') as Entry,
      `${entry.path}.value: a JSONPath starts with $, like $.data.mean`,
    );
    ok = false;
  }
  if (!ok || urlText === undefined || path === undefined || !headers) return undefined;
  return { kind: 'http', url: urlText, method, headers, ...(body !== undefined ? { body } : {}), path };
}

/** Undefined when absent; false when a problem was reported. */
export function readCustomMetrics(
  r: PlanReader,
  entry: Entry | undefined,
  minRequests: number,
): CustomMetricConfig[] | undefined | false {
  if (!entry) return undefined;
  const items = r.items(entry);
  if (items === undefined)
    return r.fail(entry, 'a list of metrics like [{name: ttft_p99_ms, query: ..., max: 2000}]') ?? false;
  const metrics: CustomMetricConfig[] = [];
  const names = new Set<string>();
  let ok = true;
  for (const itemEntry of items) {
    const metric = readMetric(r, itemEntry, names, minRequests);
    if (metric) metrics.push(metric);
    else ok = false;
  }
  return ok ? metrics : false;
}

/** One metric of the list; undefined when a problem was reported. `names` are those taken so far. */
function readMetric(
  r: PlanReader,
  itemEntry: Entry,
  names: Set<string>,
  minRequests: number,
): CustomMetricConfig | undefined {
  const fields = r.mapping(itemEntry, CUSTOM_METRIC_KEYS.metric);
  if (!fields) return undefined;
  let ok = true;
  const nameEntry = r.required(fields, 'name');
  const name = r.pattern(
    nameEntry,
    CUSTOM_METRIC_NAME,
    'a name of lowercase letters, digits and _, like ttft_p99_ms',
  );
  if (name !== undefined && names.has(name)) {
    r.problem(nameEntry as Entry, `${itemEntry.path}.name: another metric is already named '${name}'`);
    ok = false;
  }
  if (name !== undefined) names.add(name);
  const source = readSource(r, itemEntry, fields, name);
  const rule = readRule(r, fields);
  if (rule === undefined) ok = false;
  if (!RULE_KEYS.some((k) => fields.entries.has(k))) {
    r.problem(itemEntry, `${itemEntry.path}: needs at least one of ${RULE_KEYS.join(', ')}`);
    ok = false;
  }
  const mrEntry = r.optional(fields, 'min_requests');
  const mr = r.number(mrEntry, 'a whole number of at least 0', (v) => Number.isSafeInteger(v) && v >= 0);
  if (mrEntry && mr === undefined) ok = false;
  const dryEntry = r.optional(fields, 'dry_run');
  const dryRun = r.boolean(dryEntry);
  if (dryEntry && dryRun === undefined) ok = false;
  if (!ok || !source || name === undefined || rule === undefined) return undefined;
  return { name, source, rule, minRequests: mr ?? minRequests, dryRun: dryRun ?? false };
}

/** Where a metric's value comes from: `query` (PromQL) or `http`, exactly one of them. */
function readSource(
  r: PlanReader,
  itemEntry: Entry,
  fields: Fields,
  name: string | undefined,
): CustomSource | undefined {
  const queryEntry = r.optional(fields, 'query');
  const httpEntry = r.optional(fields, 'http');
  if (queryEntry && httpEntry) {
    r.problemAtKey(httpEntry, `${itemEntry.path}: give query (PromQL) or http, not both`);
    return undefined;
  }
  if (queryEntry) {
    const query = r.string(queryEntry, 'a PromQL query');
    if (query === undefined) return undefined;
    const problems = checkTemplate(name ?? 'metric', query);
    for (const p of problems) {
      if (p.use) r.problemWithin(queryEntry, p.use.text, `${queryEntry.path}: ${p.message}`);
      else r.problem(queryEntry, `${queryEntry.path}: ${p.message}`);
    }
    return problems.length === 0 ? { kind: 'prometheus', query } : undefined;
  }
  if (httpEntry) return readHttp(r, httpEntry);
  r.problem(
    itemEntry,
    `${itemEntry.path}: needs query (PromQL through analysis.prometheus) or http (a JSON API)`,
  );
  return undefined;
}

/** The metric's bounds (min, max, ratios, increases); undefined when a problem was reported. */
function readRule(r: PlanReader, fields: Fields): MetricRule | undefined {
  return readRuleKeys(r, fields, (key, e) => {
    const ratio = key === 'max_ratio' || key === 'min_ratio';
    return r.number(
      e,
      ratio
        ? 'a ratio above 0, e.g. 1.3'
        : key === 'min' || key === 'max'
          ? 'a number'
          : 'a number of at least 0',
      (v) => (ratio ? v > 0 : key === 'min' || key === 'max' ? true : v >= 0),
    );
  });
}

/**
 * A metric rule (here and in evaluation.thresholds): each of RULE_KEYS given in `fields`, in
 * that order, read by `read`, which reports its own problem. Every key is read, so every problem
 * is reported; undefined when one was refused.
 */
export function readRuleKeys(
  r: PlanReader,
  fields: Fields,
  read: (key: RuleKey, entry: Entry) => number | undefined,
): MetricRule | undefined {
  const rule: MetricRule = {};
  let ok = true;
  for (const key of RULE_KEYS) {
    const e = r.optional(fields, key);
    if (!e) continue;
    const n = read(key, e);
    if (n === undefined) ok = false;
    else rule[key] = n;
  }
  return ok ? rule : undefined;
}
