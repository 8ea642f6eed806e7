/** `analysis.provider` and `analysis.prometheus` in a plan: where the metrics come from. */
import { PROMETHEUS_QUERY_NAMES, type PrometheusQueryName } from '../domain/metrics.js';
import type { AnalysisConfig, PrometheusConfig } from '../domain/plan.js';
import { checkTemplate, DEFAULT_QUERIES } from '../domain/promql.js';
import { KEYS } from './plan-keys.js';
import { checkRelayUrl, type Entry, type Fields, type PlanReader, SECRET_MESSAGE } from './reader.js';

/** `analysis.provider` and `analysis.prometheus`; undefined when a problem was reported. */
export function readMetricsSource(
  r: PlanReader,
  fields: Fields | undefined,
  /** `analysis.metrics` when some of them are PromQL: they need analysis.prometheus whatever the provider. */
  promqlMetrics?: Entry | undefined,
): Pick<AnalysisConfig, 'provider' | 'prometheus'> | undefined {
  const providerEntry = r.optional(fields, 'provider');
  const promEntry = r.optional(fields, 'prometheus');
  let provider: 'relay' | 'prometheus' = 'relay';
  if (providerEntry) {
    const v = r.scalar(providerEntry);
    if (v === 'relay' || v === 'prometheus') provider = v;
    else return r.fail(providerEntry, 'relay or prometheus');
  }
  if (!promEntry) {
    if (promqlMetrics) {
      r.problemAtKey(promqlMetrics, 'analysis.metrics: PromQL metrics (query:) need analysis.prometheus.url');
      return undefined;
    }
    if (provider === 'prometheus' && providerEntry) {
      r.problem(providerEntry, 'analysis.provider is prometheus but there is no analysis.prometheus.url');
      return undefined;
    }
    return {};
  }
  return readPrometheus(r, promEntry, provider, promqlMetrics);
}

/** `analysis.prometheus`: its URL, credentials and queries; undefined when a problem was reported. */
function readPrometheus(
  r: PlanReader,
  promEntry: Entry,
  provider: 'relay' | 'prometheus',
  promqlMetrics: Entry | undefined,
): Pick<AnalysisConfig, 'provider' | 'prometheus'> | undefined {
  // secrets: a pasted `password:` or `bearer_token:` is refused, like in relay:.
  const f = r.mapping(promEntry, KEYS.prometheus, { secrets: SECRET_MESSAGE });
  if (!f) return undefined;
  let ok = true;
  if (provider !== 'prometheus' && !promqlMetrics) {
    r.problemAtKey(
      promEntry,
      'analysis.prometheus is only used with analysis.provider: prometheus; add it, or remove this block',
    );
    ok = false;
  }
  const url = readUrl(r, f);
  const auth = readAuth(r, f);
  const queries = readQueries(r, f);
  if (!ok || url === undefined || !auth || !queries) return undefined;
  const prometheus: PrometheusConfig = { url, queries };
  if (auth.bearerTokenEnv !== undefined) prometheus.bearerTokenEnv = auth.bearerTokenEnv;
  if (auth.username !== undefined && auth.passwordEnv !== undefined)
    prometheus.basicAuth = { username: auth.username, passwordEnv: auth.passwordEnv };
  // With provider relay, the block serves only the PromQL ones of analysis.metrics.
  return { provider: provider === 'prometheus' || !promqlMetrics ? 'prometheus' : 'relay', prometheus };
}

/** `analysis.prometheus.url`: http(s), no credentials in it, never echoed. */
function readUrl(r: PlanReader, f: Fields): string | undefined {
  const urlEntry = r.required(f, 'url');
  if (!urlEntry) return undefined;
  const text = r.text(urlEntry) ?? '';
  const check = text === 'emulator' ? 'bad' : checkRelayUrl(text);
  if (check === 'ok') return text;
  if (check === 'credentials')
    r.problem(
      urlEntry,
      'analysis.prometheus.url: no credentials in the URL; use bearer_token_env, or username and password_env',
    );
  else r.problem(urlEntry, 'analysis.prometheus.url: expected an http(s) URL like http://prometheus:9090');
  return undefined;
}

/**
 * The credentials, by env var names only: a bearer token, or a user name and password, not
 * both; undefined when a problem was reported.
 */
function readAuth(
  r: PlanReader,
  f: Fields,
): { bearerTokenEnv?: string; username?: string; passwordEnv?: string } | undefined {
  let ok = true;
  const envName = (entry: Entry | undefined): string | undefined => {
    const name = r.envName(entry, 'the name of an environment variable (not the secret itself)');
    if (entry && name === undefined) ok = false;
    return name;
  };
  const tokenEntry = r.optional(f, 'bearer_token_env');
  const userEntry = r.optional(f, 'username');
  const passwordEntry = r.optional(f, 'password_env');
  const bearerTokenEnv = envName(tokenEntry);
  const passwordEnv = envName(passwordEntry);
  const username = r.string(userEntry, 'a user name');
  if (userEntry && username === undefined) ok = false;
  if (tokenEntry && (userEntry || passwordEntry)) {
    r.problemAtKey(
      tokenEntry,
      'analysis.prometheus: use bearer_token_env or username + password_env, not both',
    );
    ok = false;
  } else if (userEntry && !passwordEntry) {
    r.problemAtKey(
      userEntry,
      'analysis.prometheus.username needs password_env (the env var holding the password)',
    );
    ok = false;
  } else if (passwordEntry && !userEntry) {
    r.problemAtKey(passwordEntry, 'analysis.prometheus.password_env needs username');
    ok = false;
  }
  return ok ? { bearerTokenEnv, username, passwordEnv } : undefined;
}

/** `analysis.prometheus.queries`: the defaults with the plan's own in their place. */
function readQueries(r: PlanReader, f: Fields): Record<PrometheusQueryName, string> | undefined {
  let ok = true;
  const queries: Record<PrometheusQueryName, string> = { ...DEFAULT_QUERIES };
  const queriesEntry = r.optional(f, 'queries');
  const queryFields = queriesEntry ? r.mapping(queriesEntry, PROMETHEUS_QUERY_NAMES) : undefined;
  if (queriesEntry && !queryFields) ok = false;
  for (const [name, entry] of queryFields?.entries ?? []) {
    const text = r.string(entry, 'a PromQL query');
    if (text === undefined) {
      ok = false;
      continue;
    }
    for (const problem of checkTemplate(name, text)) {
      if (problem.use) r.problemWithin(entry, problem.use.text, `${entry.path}: ${problem.message}`);
      else r.problem(entry, `${entry.path}: ${problem.message}`);
      ok = false;
    }
    queries[name as PrometheusQueryName] = text;
  }
  return ok ? queries : undefined;
}
