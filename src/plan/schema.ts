/**
 * The plan schema: walks the YAML node tree, reports every problem at the node that causes it,
 * and builds the normalised Plan (durations in ms, defaults filled, paths resolved).
 *
 * Why a walker over yaml nodes and not zod: zod's issue paths cannot point at a key (where an
 * unknown or misspelt key must be reported), and zod skips refinements once any shape issue
 * exists, which would hide the cross-field problems (weights out of order, window < interval)
 * behind the first typo. Walking the nodes reports all of them, each at its own line:column.
 */
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { isMap, isScalar, isSeq, type Node, type Scalar } from 'yaml';
import { checkTemplate, DEFAULT_QUERIES } from '../metrics/promql.js';
import {
  type CreateRouteRequest,
  type JsonValue,
  type RouteHealthCheck,
  type StickySessions,
  VERSION_TAG_PATTERN,
  type VersionSpec,
} from '../relay/types.js';
import { formatDuration, parseDuration } from './duration.js';
import { readEvaluation } from './evaluation-schema.js';
import { readCustomMetrics } from './metrics-schema.js';
import {
  type AnalysisConfig,
  type ComparisonRule,
  type EmulatorConfig,
  JUDGED_METRICS,
  type JudgedMetric,
  NOTIFY_EVENTS,
  type NotifyEvent,
  type NotifyTarget,
  type Plan,
  PROMETHEUS_QUERY_NAMES,
  type PrometheusConfig,
  type PrometheusQueryName,
  type RelayConfig,
  type SignificanceConfig,
  type StageCheck,
  type StagePlan,
  type ThresholdRule,
  type VersionRef,
} from './types.js';
import type { SourceFile, ValueNode } from './yaml-source.js';

/** Route ids are model aliases, which relays allow to be a little freer than version tags. */
export const ROUTE_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FACTOR_PATTERN = /^(\d+(?:\.\d+)?)x$/;

export const DEFAULTS = {
  apiKeyEnv: 'RELAY_API_KEY',
  bakeMs: 10 * 60_000,
  intervalMs: 30_000,
  windowMs: 5 * 60_000,
  minRequests: 200,
  failureLimit: 2,
  /** With significance on, each look's test is already held to its share of the error budget. */
  failureLimitWithSignificance: 1,
  holdDeadlineMs: 30 * 60_000,
  dataDeadlineFactor: 2,
  maxMetricErrors: 3,
  onMetricErrors: 'rollback',
  rollbackDeadlineMs: 2 * 60_000,
  checkTimeoutMs: 2 * 60_000,
  notifyTimeoutMs: 5_000,
} as const;

/** Above this the emulator would spend its time simulating rather than answering. */
export const MAX_EMULATOR_RPS = 100_000;

export const SECRET_MESSAGE =
  'the API key never goes in a plan: set RELAY_API_KEY (or relay.api_key_env) or relay.api_key_file';

const KEYS = {
  top: [
    'relay',
    'emulator',
    'route',
    'baseline',
    'canary',
    'stages',
    'bake',
    'analysis',
    'route_defaults',
    'rollback',
    'checks',
    'notify',
    'evaluation',
  ],
  relay: ['url', 'api_key_env', 'api_key_file'],
  emulator: ['scenario', 'rps', 'seed'],
  version: [
    'version_tag',
    'model',
    'parameters',
    'system_prompt',
    'upstream_endpoint',
    'cost_limit_per_request',
    'metadata',
  ],
  stage: ['weight', 'bake', 'pause', 'data_deadline', 'checks'],
  check: ['name', 'run', 'timeout'],
  notify: ['url', 'url_env', 'events', 'format', 'timeout'],
  analysis: [
    'interval',
    'window',
    'min_requests',
    'failure_limit',
    'hold_deadline',
    'data_deadline',
    'max_metric_errors',
    'on_metric_errors',
    'thresholds',
    'baseline_comparison',
    'provider',
    'prometheus',
    'metrics',
  ],
  prometheus: ['url', 'bearer_token_env', 'username', 'password_env', 'queries'],
  threshold: ['max'],
  comparison: ['max_increase', 'max_ratio', 'floor'],
  significance: ['enabled', 'confidence', 'min_windows'],
  routeDefaults: ['sticky_sessions', 'health_check'],
  sticky: ['enabled', 'cookie_name', 'ttl_seconds'],
  healthCheck: ['enabled', 'error_rate_threshold', 'latency_p99_threshold_ms', 'auto_rollback'],
  rollback: ['deadline'],
} as const;

/** Every mapping's keys, for the plan's JSON Schema (src/plan/json-schema.ts), which must describe each. */
export const PLAN_KEYS = KEYS;

/** A key and its value as written; `node` is the value as written (maybe an alias), `value` resolved. */
export interface Entry {
  path: string;
  keyNode: Node | undefined;
  node: unknown;
  value: ValueNode | undefined;
}

export interface Fields {
  owner: Entry;
  entries: Map<string, Entry>;
}

export function looksLikeSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_\s]/g, '');
  if (k === 'apikeyenv' || k === 'apikeyfile') return false;
  return (
    k.includes('apikey') ||
    k === 'key' ||
    k === 'auth' ||
    k === 'authorization' ||
    k === 'bearer' ||
    k === 'password' ||
    k === 'passwd' ||
    k.endsWith('token') ||
    k.endsWith('secret') ||
    k.startsWith('credential')
  );
}

function isNull(value: ValueNode | undefined): boolean {
  return value === undefined || (isScalar(value) && value.value === null);
}

function show(value: ValueNode | undefined): string {
  if (isNull(value)) return 'nothing';
  if (isMap(value)) return 'a mapping';
  if (isSeq(value)) return 'a list';
  const raw = (value as Scalar).value;
  if (typeof raw === 'string') return `'${raw.length > 40 ? `${raw.slice(0, 40)}…` : raw}'`;
  return String(raw);
}

function join(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

function describeOwner(path: string): string {
  return path === '' ? 'at the top level' : `in ${path}`;
}

export function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? homedir() + file.slice(1) : file;
}

export class PlanReader {
  constructor(private readonly src: SourceFile) {}

  /** Where to point for a value: the value itself, or its key when the value is empty. */
  private at(entry: Entry): Node | undefined {
    if (isNull(entry.value) && entry.keyNode) return entry.keyNode;
    return (entry.node as Node | undefined) ?? entry.keyNode;
  }

  problem(entry: Entry, message: string): void {
    this.src.problem(this.at(entry), entry.path, message);
  }

  /** Reports a problem at `needle` inside a scalar's source text when it is there, else at the scalar. */
  problemWithin(entry: Entry, needle: string, message: string): void {
    const range = (entry.node as Node | undefined)?.range;
    const at = range ? this.src.text.slice(range[0], range[1]).indexOf(needle) : -1;
    if (range && at >= 0) this.src.problemAt(range[0] + at, entry.path, message);
    else this.problem(entry, message);
  }

  problemAtKey(entry: Entry, message: string): void {
    this.src.problem(entry.keyNode ?? this.at(entry), entry.path, message);
  }

  resolveNode(node: unknown, path: string): ValueNode | undefined {
    return this.src.resolve(node, path);
  }

  fail(entry: Entry, expectation: string): undefined {
    this.problem(entry, `${entry.path}: expected ${expectation}, got ${show(entry.value)}`);
    return undefined;
  }

  /** Reads a mapping, reporting keys it does not know (with a suggestion) and secret-looking keys. */
  mapping(owner: Entry, known: readonly string[], options: { secrets?: boolean } = {}): Fields | undefined {
    const map = owner.value;
    if (!isMap(map)) return this.fail(owner, 'a mapping');
    const entries = new Map<string, Entry>();
    for (const pair of map.items) {
      const keyNode = this.src.resolve(pair.key, owner.path);
      const keyAt = (pair.key as Node | null) ?? map;
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        this.src.problem(keyAt, owner.path, `keys ${describeOwner(owner.path)} must be plain names`);
        continue;
      }
      const key = String(keyNode.value);
      const path = join(owner.path, key);
      const entry: Entry = {
        path,
        keyNode: keyAt,
        node: pair.value,
        value: pair.value === null ? undefined : this.src.resolve(pair.value, path),
      };
      if (options.secrets && looksLikeSecretKey(key)) {
        this.src.problem(keyAt, path, SECRET_MESSAGE);
        continue;
      }
      if (!known.includes(key)) {
        this.src.problem(keyAt, path, unknownKeyMessage(key, owner.path, known));
        if (options.secrets) this.findSecrets(entry.value, path, 0);
        continue;
      }
      entries.set(key, entry);
    }
    return { owner, entries };
  }

  /** Secret-looking keys nested anywhere under an unknown relay key (e.g. `headers.Authorization`). */
  private findSecrets(value: ValueNode | undefined, path: string, depth: number): void {
    if (depth > 16 || value === undefined) return;
    if (isSeq(value)) {
      value.items.forEach((item, i) => {
        this.findSecrets(this.src.resolve(item, path), `${path}[${i}]`, depth + 1);
      });
    } else if (isMap(value)) {
      for (const pair of value.items) {
        const key = this.src.resolve(pair.key, path);
        const name = isScalar(key) ? String(key.value) : '';
        if (looksLikeSecretKey(name)) {
          this.src.problem(pair.key as Node, join(path, name), SECRET_MESSAGE);
        } else {
          this.findSecrets(this.src.resolve(pair.value, path), join(path, name), depth + 1);
        }
      }
    }
  }

  /** A key the plan may leave out; an explicit null counts as left out. */
  optional(fields: Fields | undefined, key: string): Entry | undefined {
    const entry = fields?.entries.get(key);
    return entry === undefined || isNull(entry.value) ? undefined : entry;
  }

  required(fields: Fields | undefined, key: string): Entry | undefined {
    if (fields === undefined) return undefined;
    const entry = fields.entries.get(key);
    if (entry === undefined) {
      const owner = fields.owner;
      this.src.problem(
        owner.keyNode ?? (owner.node as Node),
        join(owner.path, key),
        `missing required key '${key}' ${describeOwner(owner.path)}`,
      );
      return undefined;
    }
    if (isNull(entry.value)) {
      this.problem(entry, `${entry.path}: needs a value`);
      return undefined;
    }
    return entry;
  }

  string(entry: Entry | undefined, expectation = 'a string'): string | undefined {
    if (entry === undefined) return undefined;
    const v = entry.value;
    if (isScalar(v) && typeof v.value === 'string' && v.value.length > 0) return v.value;
    return this.fail(entry, expectation);
  }

  pattern(entry: Entry | undefined, pattern: RegExp, expectation: string): string | undefined {
    const text = this.string(entry, expectation);
    if (text === undefined || entry === undefined) return undefined;
    if (pattern.test(text)) return text;
    return this.fail(entry, expectation);
  }

  number(entry: Entry | undefined, expectation: string, ok: (n: number) => boolean): number | undefined {
    if (entry === undefined) return undefined;
    const v = entry.value;
    if (isScalar(v) && typeof v.value === 'number' && Number.isFinite(v.value) && ok(v.value)) return v.value;
    return this.fail(entry, expectation);
  }

  boolean(entry: Entry | undefined): boolean | undefined {
    if (entry === undefined) return undefined;
    const v = entry.value;
    if (isScalar(v) && typeof v.value === 'boolean') return v.value;
    return this.fail(entry, 'true or false');
  }

  duration(entry: Entry | undefined, options: { positive?: boolean } = {}): number | undefined {
    if (entry === undefined) return undefined;
    const v = entry.value;
    const ms = isScalar(v) && typeof v.value === 'string' ? parseDuration(v.value) : undefined;
    if (ms === undefined) return this.fail(entry, 'a duration like 30s, 10m or 1h30m');
    if (options.positive && ms <= 0) return this.fail(entry, 'a duration longer than 0s');
    return ms;
  }

  json(entry: Entry | undefined): { [key: string]: JsonValue } | undefined {
    if (entry === undefined) return undefined;
    if (!isMap(entry.value)) return this.fail(entry, 'a mapping');
    const before = this.src.problems.length;
    const value = this.src.toJson(entry.node, entry.path);
    if (this.src.problems.length > before || value === undefined || value === null) return undefined;
    return value as { [key: string]: JsonValue };
  }
}

function unknownKeyMessage(key: string, ownerPath: string, known: readonly string[]): string {
  const base = `unknown key '${key}' ${describeOwner(ownerPath)}`;
  const normalised = key.toLowerCase().replace(/-/g, '_');
  const guess = closest(normalised, [...known]);
  if (guess !== undefined && distance(normalised, guess) <= Math.max(2, Math.floor(guess.length / 3))) {
    return `${base}; did you mean '${guess}'?`;
  }
  return `${base}; expected one of ${known.join(', ')}`;
}

const TAG_EXPECTATION = "a version tag of lowercase letters, digits and '-' (1-64 characters)";
const ROUTE_EXPECTATION = "a route alias of letters, digits, '.', '_' or '-' (1-128 characters)";

export interface ReadOptions {
  /** Absolute path of the plan; relative paths in it are resolved against its folder. */
  absoluteFile: string;
  hash: string;
}

/** Validates and normalises the parsed document; undefined when any problem was reported. */
export function readPlan(src: SourceFile, options: ReadOptions): Plan | undefined {
  const doc = src.doc;
  if (doc === undefined) return undefined;
  const r = new PlanReader(src);
  const baseDir = dirname(options.absoluteFile);
  const root: Entry = {
    path: '',
    keyNode: undefined,
    node: doc.contents,
    value: src.resolve(doc.contents, ''),
  };
  if (isNull(root.value)) {
    src.problemAt(
      0,
      '',
      'the plan is empty; expected a mapping with relay, route, baseline, canary and stages',
    );
    return undefined;
  }
  if (!isMap(root.value)) {
    r.problem(
      root,
      `expected a mapping with relay, route, baseline, canary and stages, got ${show(root.value)}`,
    );
    return undefined;
  }
  const top = r.mapping(root, KEYS.top);

  // relay
  const relayEntry = r.required(top, 'relay');
  const relayFields = relayEntry && r.mapping(relayEntry, KEYS.relay, { secrets: true });
  const urlEntry = r.required(relayFields, 'url');
  let url: string | undefined;
  if (urlEntry) {
    // Never echo the URL: it may carry credentials.
    const text =
      isScalar(urlEntry.value) && typeof urlEntry.value.value === 'string' ? urlEntry.value.value : '';
    const check = checkRelayUrl(text);
    if (check === 'ok') url = text;
    else if (check === 'credentials') r.problem(urlEntry, `relay.url: ${SECRET_MESSAGE}`);
    else
      r.problem(
        urlEntry,
        'relay.url: expected `emulator` or an http(s) URL like https://relay.example.com/v1',
      );
  }
  const apiKeyEnvEntry = r.optional(relayFields, 'api_key_env');
  let apiKeyEnv: string | undefined = DEFAULTS.apiKeyEnv;
  if (apiKeyEnvEntry) {
    const v = apiKeyEnvEntry.value;
    apiKeyEnv =
      isScalar(v) && typeof v.value === 'string' && ENV_NAME_PATTERN.test(v.value) ? v.value : undefined;
    if (apiKeyEnv === undefined) {
      // Someone may have pasted the key itself here, so the value is not echoed.
      r.problem(
        apiKeyEnvEntry,
        'relay.api_key_env: expected the name of an environment variable like RELAY_API_KEY (not the key itself)',
      );
    }
  }
  const apiKeyFileText = r.string(r.optional(relayFields, 'api_key_file'), 'a file path');
  const relay: RelayConfig | undefined =
    url !== undefined && apiKeyEnv !== undefined
      ? {
          url,
          apiKeyEnv,
          ...(apiKeyFileText !== undefined
            ? { apiKeyFile: resolve(baseDir, expandHome(apiKeyFileText)) }
            : {}),
        }
      : undefined;

  // emulator
  const emulator = readEmulator(r, r.optional(top, 'emulator'), url, baseDir);

  const route = r.pattern(r.required(top, 'route'), ROUTE_PATTERN, ROUTE_EXPECTATION);
  const baseline = readVersion(r, r.required(top, 'baseline'));
  const canary = readVersion(r, r.required(top, 'canary'));
  if (baseline?.tag !== undefined && baseline.tag === canary?.tag) {
    const tagEntry = canary.tagEntry;
    r.problem(
      tagEntry,
      `canary.version_tag is the same as baseline.version_tag ('${canary.tag}'); the canary must be a different version`,
    );
  }

  // analysis (before stages: per-stage data deadlines default to a multiple of the bake)
  const analysis = readAnalysis(r, r.optional(top, 'analysis'));
  const defaultBake = r.duration(r.optional(top, 'bake')) ?? DEFAULTS.bakeMs;
  const stages = readStages(r, r.required(top, 'stages'), defaultBake, analysis?.dataDeadlineFactor);
  const routeDefaults = readRouteDefaults(r, r.optional(top, 'route_defaults'));

  const rollbackFields = optionalMapping(r, r.optional(top, 'rollback'), KEYS.rollback);
  const rollbackDeadline =
    r.duration(r.optional(rollbackFields, 'deadline'), { positive: true }) ?? DEFAULTS.rollbackDeadlineMs;
  const checksEntry = r.optional(top, 'checks');
  const checks = readChecks(r, checksEntry);
  const notifyEntry = r.optional(top, 'notify');
  const notify = readNotify(r, notifyEntry);
  const evaluationEntry = r.optional(top, 'evaluation');
  const evaluation = readEvaluation(r, evaluationEntry, baseDir);

  if (
    src.problems.length > 0 ||
    !relay ||
    !route ||
    !baseline ||
    !canary ||
    !stages ||
    !analysis ||
    !routeDefaults ||
    (evaluationEntry && !evaluation)
  ) {
    return undefined;
  }
  return {
    file: options.absoluteFile,
    hash: options.hash,
    relay,
    ...(emulator ? { emulator } : {}),
    route,
    baseline: baseline.ref,
    canary: canary.ref,
    stages,
    analysis,
    routeDefaults,
    rollback: { deadlineMs: rollbackDeadline },
    ...(checks && checks.length > 0 ? { checks } : {}),
    ...(notify && notify.length > 0 ? { notify } : {}),
    ...(evaluation ? { evaluation } : {}),
  };
}

/** `checks:` at the top level or in a stage: a list of `{name?, run, timeout?}`. */
function readChecks(r: PlanReader, entry: Entry | undefined): StageCheck[] | undefined {
  if (!entry) return undefined;
  const seq = entry.value;
  if (!isSeq(seq))
    return r.fail(entry, 'a list of checks like [{name: smoke, run: ./smoke.sh, timeout: 2m}]');
  const checks: StageCheck[] = [];
  const names = new Set<string>();
  seq.items.forEach((item, index) => {
    const path = `${entry.path}[${index}]`;
    const itemEntry: Entry = { path, keyNode: undefined, node: item, value: r.resolveNode(item, path) };
    const fields = r.mapping(itemEntry, KEYS.check);
    if (!fields) return;
    const run = r.string(r.required(fields, 'run'), 'a shell command like ./smoke.sh');
    const nameEntry = r.optional(fields, 'name');
    const name = nameEntry ? r.string(nameEntry, 'a name for the check') : run;
    const timeout = r.duration(r.optional(fields, 'timeout'), { positive: true });
    if (run === undefined || name === undefined) return;
    if (names.has(name)) {
      r.problem(nameEntry ?? itemEntry, `${path}: another check in this list is already named '${name}'`);
      return;
    }
    names.add(name);
    checks.push({ name, run, timeoutMs: timeout ?? DEFAULTS.checkTimeoutMs });
  });
  return checks.length === seq.items.length ? checks : undefined;
}

/** `notify:` a list of webhooks; the URL (a secret) is never echoed in a message. */
function readNotify(r: PlanReader, entry: Entry | undefined): NotifyTarget[] | undefined {
  if (!entry) return undefined;
  const seq = entry.value;
  if (!isSeq(seq))
    return r.fail(entry, 'a list of webhooks like [{url_env: SLACK_WEBHOOK_URL, format: slack}]');
  const targets: NotifyTarget[] = [];
  seq.items.forEach((item, index) => {
    const path = `${entry.path}[${index}]`;
    const itemEntry: Entry = { path, keyNode: undefined, node: item, value: r.resolveNode(item, path) };
    const fields = r.mapping(itemEntry, KEYS.notify);
    if (!fields) return;
    let ok = true;
    const urlEntry = r.optional(fields, 'url');
    const urlEnvEntry = r.optional(fields, 'url_env');
    let url: string | undefined;
    let urlEnv: string | undefined;
    if (urlEntry && urlEnvEntry) {
      r.problemAtKey(urlEnvEntry, `${path}: give url or url_env, not both`);
      ok = false;
    } else if (!urlEntry && !urlEnvEntry) {
      r.problem(itemEntry, `${path}: needs url_env (the env var holding the webhook URL) or url`);
      ok = false;
    }
    if (urlEntry) {
      const v = urlEntry.value;
      const text = isScalar(v) && typeof v.value === 'string' ? v.value : '';
      if (checkRelayUrl(text) === 'ok' && text !== 'emulator') url = text;
      else {
        r.problem(
          urlEntry,
          `${urlEntry.path}: expected an http(s) webhook URL (prefer url_env: webhook URLs are secrets)`,
        );
        ok = false;
      }
    }
    if (urlEnvEntry) {
      const v = urlEnvEntry.value;
      urlEnv =
        isScalar(v) && typeof v.value === 'string' && ENV_NAME_PATTERN.test(v.value) ? v.value : undefined;
      if (urlEnv === undefined) {
        // Someone may have pasted the URL itself here, so the value is not echoed.
        r.problem(
          urlEnvEntry,
          `${urlEnvEntry.path}: expected the name of an environment variable like SLACK_WEBHOOK_URL`,
        );
        ok = false;
      }
    }
    let events: NotifyEvent[] = [...NOTIFY_EVENTS];
    const eventsEntry = r.optional(fields, 'events');
    if (eventsEntry) {
      const list = eventsEntry.value;
      if (!isSeq(list) || list.items.length === 0) {
        r.fail(eventsEntry, `a list of events from ${NOTIFY_EVENTS.join(', ')}`);
        ok = false;
      } else {
        events = [];
        list.items.forEach((e, i) => {
          const ePath = `${eventsEntry.path}[${i}]`;
          const node = r.resolveNode(e, ePath);
          const name = isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
          if (name !== undefined && (NOTIFY_EVENTS as readonly string[]).includes(name)) {
            events.push(name as NotifyEvent);
            return;
          }
          const shown = name ?? show(node);
          const guess = name === undefined ? undefined : closest(name, [...NOTIFY_EVENTS]);
          const hint =
            guess !== undefined &&
            name !== undefined &&
            distance(name, guess) <= Math.max(2, Math.floor(guess.length / 3))
              ? `did you mean '${guess}'?`
              : `expected one of ${NOTIFY_EVENTS.join(', ')}`;
          r.problem(
            { path: ePath, keyNode: undefined, node: e, value: node },
            `${ePath}: unknown event '${shown}'; ${hint}`,
          );
          ok = false;
        });
      }
    }
    let format: 'slack' | 'json' = 'json';
    const formatEntry = r.optional(fields, 'format');
    if (formatEntry) {
      const v = formatEntry.value;
      if (isScalar(v) && (v.value === 'slack' || v.value === 'json')) format = v.value;
      else {
        r.fail(formatEntry, 'slack or json');
        ok = false;
      }
    }
    const timeoutEntry = r.optional(fields, 'timeout');
    const timeout = r.duration(timeoutEntry, { positive: true });
    if (timeoutEntry && timeout === undefined) ok = false;
    if (!ok) return;
    targets.push({
      ...(url !== undefined ? { url } : {}),
      ...(urlEnv !== undefined ? { urlEnv } : {}),
      events,
      format,
      timeoutMs: timeout ?? DEFAULTS.notifyTimeoutMs,
    });
  });
  return targets.length === seq.items.length ? targets : undefined;
}

export function optionalMapping(
  r: PlanReader,
  entry: Entry | undefined,
  known: readonly string[],
): Fields | undefined {
  return entry ? r.mapping(entry, known) : undefined;
}

function checkRelayUrl(text: string): 'ok' | 'bad' | 'credentials' {
  if (text === 'emulator') return 'ok';
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return 'bad';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'bad';
  if (parsed.hostname === '') return 'bad';
  if (parsed.username !== '' || parsed.password !== '') return 'credentials';
  return 'ok';
}

function readEmulator(
  r: PlanReader,
  entry: Entry | undefined,
  relayUrl: string | undefined,
  baseDir: string,
): EmulatorConfig | undefined {
  const fields = optionalMapping(r, entry, KEYS.emulator);
  if (!fields) return undefined;
  const config: EmulatorConfig = {};
  const scenarioEntry = r.optional(fields, 'scenario');
  if (scenarioEntry) {
    if (relayUrl !== undefined && relayUrl !== 'emulator') {
      r.problem(scenarioEntry, 'emulator.scenario only applies when relay.url is `emulator`');
    } else if (isMap(scenarioEntry.value)) {
      const inline = r.json(scenarioEntry);
      if (inline) config.scenario = inline;
    } else {
      const file = r.string(scenarioEntry, 'a scenario file path or an inline scenario mapping');
      if (file !== undefined) config.scenario = resolve(baseDir, expandHome(file));
    }
  }
  const rps = r.number(
    r.optional(fields, 'rps'),
    `a number of requests per second above 0 and at most ${MAX_EMULATOR_RPS}`,
    (n) => n > 0 && n <= MAX_EMULATOR_RPS,
  );
  if (rps !== undefined) config.rps = rps;
  const seed = r.number(
    r.optional(fields, 'seed'),
    'a whole number from 0 to 4294967295',
    (n) => Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff,
  );
  if (seed !== undefined) config.seed = seed;
  return config;
}

function readVersion(
  r: PlanReader,
  entry: Entry | undefined,
): { tag: string | undefined; tagEntry: Entry; ref: VersionRef } | undefined {
  if (!entry) return undefined;
  const fields = r.mapping(entry, KEYS.version);
  if (!fields) return undefined;
  const tagEntry = r.required(fields, 'version_tag');
  const tag = r.pattern(tagEntry, VERSION_TAG_PATTERN, TAG_EXPECTATION);
  const model = r.string(r.optional(fields, 'model'), 'a model name like anthropic/claude-sonnet-4-20250514');
  const parameters = r.json(r.optional(fields, 'parameters'));
  const metadata = r.json(r.optional(fields, 'metadata'));
  const systemPromptEntry = r.optional(fields, 'system_prompt');
  let systemPrompt: string | undefined;
  if (systemPromptEntry) {
    const v = systemPromptEntry.value;
    if (isScalar(v) && typeof v.value === 'string') systemPrompt = v.value;
    else r.fail(systemPromptEntry, 'a string');
  }
  const upstream = r.string(r.optional(fields, 'upstream_endpoint'));
  const costLimit = r.number(r.optional(fields, 'cost_limit_per_request'), 'a number above 0', (n) => n > 0);

  if (!fields.entries.has('model')) {
    // Without a model the version is not registered, so these would be silently ignored.
    for (const key of [
      'parameters',
      'system_prompt',
      'upstream_endpoint',
      'cost_limit_per_request',
      'metadata',
    ]) {
      const extra = fields.entries.get(key);
      if (extra) {
        r.problemAtKey(
          extra,
          `${extra.path} needs ${entry.path}.model: a version is registered only when the plan gives its model`,
        );
      }
    }
  }
  if (!tagEntry || tag === undefined) return undefined;
  const ref: VersionRef = { tag };
  if (model !== undefined) {
    const spec: VersionSpec = { version_tag: tag, model };
    if (parameters) spec.parameters = parameters;
    if (systemPrompt !== undefined) spec.system_prompt = systemPrompt;
    if (upstream !== undefined) spec.upstream_endpoint = upstream;
    if (costLimit !== undefined) spec.cost_limit_per_request = costLimit;
    if (metadata) spec.metadata = metadata;
    ref.spec = spec;
  }
  return { tag, tagEntry, ref };
}

function hasAtMostTwoDecimals(n: number): boolean {
  return Math.abs(Math.round(n * 100) - n * 100) < 1e-6;
}

function readStages(
  r: PlanReader,
  entry: Entry | undefined,
  defaultBake: number,
  factor: number | undefined,
): StagePlan[] | undefined {
  if (!entry) return undefined;
  const seq = entry.value;
  if (!isSeq(seq))
    return r.fail(entry, 'a list of stages like [5, 25, 50, 100] or [{weight: 5, bake: 10m}, …]');
  if (seq.items.length === 0) {
    r.problem(entry, 'stages: expected at least one stage (the last at weight 100)');
    return undefined;
  }
  const stages: StagePlan[] = [];
  let ok = true;
  let previous: { weight: number; entry: Entry } | undefined;
  const lastIndex = seq.items.length - 1;
  seq.items.forEach((item, index) => {
    const path = `stages[${index}]`;
    const stageEntry: Entry = {
      path,
      keyNode: undefined,
      node: item,
      value: r.resolveNode(item, path),
    };
    let weightEntry: Entry | undefined;
    let bake: number | undefined;
    let pause = false;
    let deadline: number | undefined;
    let deadlineEntry: Entry | undefined;
    let stageChecks: StageCheck[] | undefined;
    if (isMap(stageEntry.value)) {
      const fields = r.mapping(stageEntry, KEYS.stage);
      weightEntry = r.required(fields, 'weight');
      bake = r.duration(r.optional(fields, 'bake'));
      pause = r.boolean(r.optional(fields, 'pause')) ?? false;
      deadlineEntry = r.optional(fields, 'data_deadline');
      deadline = r.duration(deadlineEntry);
      stageChecks = readChecks(r, r.optional(fields, 'checks'));
    } else if (isScalar(stageEntry.value) && typeof stageEntry.value.value === 'number') {
      weightEntry = stageEntry;
    } else {
      r.fail(stageEntry, 'a weight like 25 or a mapping like {weight: 25, bake: 10m}');
      ok = false;
      return;
    }
    const weight = r.number(weightEntry, 'a percentage above 0 and at most 100', (n) => n > 0 && n <= 100);
    if (weight === undefined || !weightEntry) {
      ok = false;
      return;
    }
    if (!hasAtMostTwoDecimals(weight)) {
      r.problem(weightEntry, `${weightEntry.path}: weights have at most two decimals, got ${weight}`);
      ok = false;
    }
    if (previous && weight <= previous.weight) {
      r.problem(
        weightEntry,
        `${weightEntry.path}: weights must increase from stage to stage, but ${weight} follows ${previous.weight}`,
      );
      ok = false;
    }
    if (index === lastIndex && weight !== 100) {
      r.problem(
        weightEntry,
        `${weightEntry.path}: the last stage must have weight 100 so the rollout ends promoted, got ${weight}`,
      );
      ok = false;
    }
    previous = { weight, entry: weightEntry };
    const isFinal = index === lastIndex && weight === 100;
    const bakeMs = bake ?? (isFinal ? 0 : defaultBake);
    if (deadline !== undefined && deadlineEntry && deadline < bakeMs) {
      r.problem(
        deadlineEntry,
        `${deadlineEntry.path}: the data deadline (${formatDuration(deadline)}) must be at least the stage's bake (${formatDuration(bakeMs)})`,
      );
      ok = false;
    }
    stages.push({
      index,
      weight,
      bakeMs,
      pause,
      dataDeadlineMs: deadline ?? Math.round(bakeMs * (factor ?? DEFAULTS.dataDeadlineFactor)),
      ...(stageChecks && stageChecks.length > 0 ? { checks: stageChecks } : {}),
    });
  });
  return ok && stages.length === seq.items.length ? stages : undefined;
}

function readAnalysis(r: PlanReader, entry: Entry | undefined): AnalysisConfig | undefined {
  const fields = optionalMapping(r, entry, KEYS.analysis);
  if (entry && !fields) return undefined;
  const intervalEntry = r.optional(fields, 'interval');
  const windowEntry = r.optional(fields, 'window');
  const interval = r.duration(intervalEntry, { positive: true });
  const window = r.duration(windowEntry, { positive: true });
  const intervalMs = interval ?? DEFAULTS.intervalMs;
  const windowMs = window ?? DEFAULTS.windowMs;
  let ok = (!intervalEntry || interval !== undefined) && (!windowEntry || window !== undefined);
  if (ok && windowMs < intervalMs) {
    const at = windowEntry ?? intervalEntry;
    const windowText = `${formatDuration(windowMs)}${windowEntry ? '' : ', the default'}`;
    const intervalText = `${formatDuration(intervalMs)}${intervalEntry ? '' : ', the default'}`;
    if (at) {
      r.problem(at, `analysis.window (${windowText}) must be at least analysis.interval (${intervalText})`);
    }
    ok = false;
  }
  const wholeAtLeastOne = (key: string, fallback: number): number | undefined => {
    const e = r.optional(fields, key);
    if (!e) return fallback;
    const n = r.number(e, 'a whole number of at least 1', (v) => Number.isSafeInteger(v) && v >= 1);
    if (n === undefined) ok = false;
    return n;
  };
  const minRequests = wholeAtLeastOne('min_requests', DEFAULTS.minRequests);
  // The default depends on significance, read below; 0 stands for "not given" until then.
  const failureLimitGiven = wholeAtLeastOne('failure_limit', 0);
  const holdEntry = r.optional(fields, 'hold_deadline');
  const holdDeadline = r.duration(holdEntry, { positive: true });
  if (holdEntry && holdDeadline === undefined) ok = false;
  const maxMetricErrors = wholeAtLeastOne('max_metric_errors', DEFAULTS.maxMetricErrors);

  let factor: number = DEFAULTS.dataDeadlineFactor;
  const deadlineEntry = r.optional(fields, 'data_deadline');
  if (deadlineEntry) {
    const v = deadlineEntry.value;
    const match = isScalar(v) && typeof v.value === 'string' ? FACTOR_PATTERN.exec(v.value) : null;
    const parsed = match ? Number(match[1]) : Number.NaN;
    if (Number.isFinite(parsed) && parsed >= 1) factor = parsed;
    else {
      r.fail(deadlineEntry, 'a multiple of the bake like 2x (at least 1x)');
      ok = false;
    }
  }

  let onMetricErrors: 'rollback' | 'hold' = DEFAULTS.onMetricErrors;
  const customEntry = r.optional(fields, 'metrics');
  const customMetrics = readCustomMetrics(r, customEntry, minRequests ?? DEFAULTS.minRequests);
  if (customMetrics === false) ok = false;
  const promqlMetrics = customMetrics ? customMetrics.filter((m) => m.source.kind === 'prometheus') : [];
  const source = readMetricsSource(r, fields, promqlMetrics.length > 0 ? customEntry : undefined);
  if (source === undefined) ok = false;

  const policyEntry = r.optional(fields, 'on_metric_errors');
  if (policyEntry) {
    const v = policyEntry.value;
    if (isScalar(v) && (v.value === 'rollback' || v.value === 'hold')) onMetricErrors = v.value;
    else {
      r.fail(policyEntry, 'rollback or hold');
      ok = false;
    }
  }

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

  if (!ok || minRequests === undefined || failureLimitGiven === undefined || maxMetricErrors === undefined) {
    return undefined;
  }
  const failureLimit =
    failureLimitGiven > 0
      ? failureLimitGiven
      : significance
        ? DEFAULTS.failureLimitWithSignificance
        : DEFAULTS.failureLimit;
  return {
    intervalMs,
    windowMs,
    minRequests,
    failureLimit,
    holdDeadlineMs: holdDeadline ?? DEFAULTS.holdDeadlineMs,
    dataDeadlineFactor: factor,
    maxMetricErrors,
    onMetricErrors,
    thresholds,
    baselineComparison: comparison,
    ...(significance ? { significance } : {}),
    ...source,
    ...(customMetrics && customMetrics.length > 0 ? { customMetrics } : {}),
  };
}

/** `analysis.provider` and `analysis.prometheus`; undefined when a problem was reported. */
function readMetricsSource(
  r: PlanReader,
  fields: Fields | undefined,
  /** `analysis.metrics` when some of them are PromQL: they need analysis.prometheus whatever the provider. */
  promqlMetrics?: Entry | undefined,
): Pick<AnalysisConfig, 'provider' | 'prometheus'> | undefined {
  const providerEntry = r.optional(fields, 'provider');
  const promEntry = r.optional(fields, 'prometheus');
  let provider: 'relay' | 'prometheus' = 'relay';
  if (providerEntry) {
    const v = providerEntry.value;
    if (isScalar(v) && (v.value === 'relay' || v.value === 'prometheus')) provider = v.value;
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
  // secrets: a pasted `password:` or `bearer_token:` is refused, like in relay:.
  const f = r.mapping(promEntry, KEYS.prometheus, { secrets: true });
  if (!f) return undefined;
  let ok = true;
  if (provider !== 'prometheus' && !promqlMetrics) {
    r.problemAtKey(
      promEntry,
      'analysis.prometheus is only used with analysis.provider: prometheus; add it, or remove this block',
    );
    ok = false;
  }
  const urlEntry = r.required(f, 'url');
  let url: string | undefined;
  if (urlEntry) {
    const text =
      isScalar(urlEntry.value) && typeof urlEntry.value.value === 'string' ? urlEntry.value.value : '';
    const check = text === 'emulator' ? 'bad' : checkRelayUrl(text);
    if (check === 'ok') url = text;
    else if (check === 'credentials')
      r.problem(
        urlEntry,
        'analysis.prometheus.url: no credentials in the URL; use bearer_token_env, or username and password_env',
      );
    else r.problem(urlEntry, 'analysis.prometheus.url: expected an http(s) URL like http://prometheus:9090');
  }
  const envName = (entry: Entry | undefined): string | undefined => {
    if (!entry) return undefined;
    const v = entry.value;
    if (isScalar(v) && typeof v.value === 'string' && ENV_NAME_PATTERN.test(v.value)) return v.value;
    // The secret itself may have been pasted here, so the value is not echoed.
    r.problem(entry, `${entry.path}: expected the name of an environment variable (not the secret itself)`);
    ok = false;
    return undefined;
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
  if (!ok || url === undefined) return undefined;
  const prometheus: PrometheusConfig = { url, queries };
  if (bearerTokenEnv !== undefined) prometheus.bearerTokenEnv = bearerTokenEnv;
  if (username !== undefined && passwordEnv !== undefined) prometheus.basicAuth = { username, passwordEnv };
  // With provider relay, the block serves only the PromQL ones of analysis.metrics.
  return { provider: provider === 'prometheus' || !promqlMetrics ? 'prometheus' : 'relay', prometheus };
}

/** Chosen with `npm run judge` (docs/judgement.md): the settings that scored best on its scenarios. */
export const SIGNIFICANCE_DEFAULTS: SignificanceConfig = { confidence: 0.99, minWindows: 4 };

/**
 * `significance: true`, or `{ enabled, confidence, min_windows }`; undefined when off, false
 * when a problem was reported.
 */
function readSignificance(r: PlanReader, entry: Entry): SignificanceConfig | undefined | false {
  const v = entry.value;
  if (isNull(v)) return undefined;
  if (isScalar(v) && typeof v.value === 'boolean') return v.value ? { ...SIGNIFICANCE_DEFAULTS } : undefined;
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

function readRouteDefaults(
  r: PlanReader,
  entry: Entry | undefined,
): Pick<CreateRouteRequest, 'sticky_sessions' | 'health_check'> | undefined {
  const fields = optionalMapping(r, entry, KEYS.routeDefaults);
  if (entry && !fields) return undefined;
  const out: Pick<CreateRouteRequest, 'sticky_sessions' | 'health_check'> = {};
  let ok = true;
  const stickyEntry = r.optional(fields, 'sticky_sessions');
  if (stickyEntry) {
    const f = r.mapping(stickyEntry, KEYS.sticky);
    const enabled = r.boolean(r.required(f, 'enabled'));
    const cookie = r.string(r.optional(f, 'cookie_name'), 'a cookie name');
    const ttlEntry = r.optional(f, 'ttl_seconds');
    const ttl = r.number(
      ttlEntry,
      'a whole number of seconds above 0',
      (n) => Number.isSafeInteger(n) && n > 0,
    );
    if (enabled === undefined || (ttlEntry && ttl === undefined)) ok = false;
    else {
      const sticky: StickySessions = { enabled };
      if (cookie !== undefined) sticky.cookie_name = cookie;
      if (ttl !== undefined) sticky.ttl_seconds = ttl;
      out.sticky_sessions = sticky;
    }
  }
  const healthEntry = r.optional(fields, 'health_check');
  if (healthEntry) {
    const f = r.mapping(healthEntry, KEYS.healthCheck);
    const enabled = r.boolean(r.required(f, 'enabled'));
    const rateEntry = r.optional(f, 'error_rate_threshold');
    const rate = r.number(rateEntry, 'a number between 0 and 1', (n) => n >= 0 && n <= 1);
    const p99Entry = r.optional(f, 'latency_p99_threshold_ms');
    const p99 = r.number(p99Entry, 'a number of milliseconds above 0', (n) => n > 0);
    const autoEntry = r.optional(f, 'auto_rollback');
    const auto = r.boolean(autoEntry);
    if (
      enabled === undefined ||
      (rateEntry && rate === undefined) ||
      (p99Entry && p99 === undefined) ||
      (autoEntry && auto === undefined)
    ) {
      ok = false;
    } else {
      const check: RouteHealthCheck = { enabled };
      if (rate !== undefined) check.error_rate_threshold = rate;
      if (p99 !== undefined) check.latency_p99_threshold_ms = p99;
      if (auto !== undefined) check.auto_rollback = auto;
      out.health_check = check;
    }
  }
  return ok ? out : undefined;
}
