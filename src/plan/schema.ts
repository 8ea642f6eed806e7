/**
 * The plan schema: the top level (relay, emulator, route, the two versions) read with the walker
 * (./reader.ts), each other section by its own module, into the normalised Plan (durations in
 * ms, defaults filled, paths resolved). Every problem is reported at its own line:column.
 */
import { dirname, resolve } from 'node:path';
import type { EmulatorConfig, Plan, RelayConfig, VersionRef } from '../domain/plan.js';
import { VERSION_TAG_PATTERN, type VersionSpec } from '../domain/relay.js';
import { readAnalysis } from './analysis-schema.js';
import { readEvaluation } from './evaluation-schema.js';
import { readNotify } from './notify-schema.js';
import { DEFAULTS, KEYS, MAX_EMULATOR_RPS, ROUTE_PATTERN } from './plan-keys.js';
import {
  checkRelayUrl,
  type Entry,
  expandHome,
  type Fields,
  optionalMapping,
  PlanReader,
  rootEntry,
  SECRET_MESSAGE,
} from './reader.js';
import { readRouteDefaults } from './route-defaults-schema.js';
import { readChecks, readStages } from './stages-schema.js';
import type { SourceFile } from './yaml-source.js';

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
  const top = readTop(src, r);
  if (top === undefined) return undefined;

  const { relay, url } = readRelay(r, r.required(top, 'relay'), baseDir);
  const emulator = readEmulator(r, r.optional(top, 'emulator'), url, baseDir);
  const route = r.pattern(r.required(top, 'route'), ROUTE_PATTERN, ROUTE_EXPECTATION);
  const versions = readVersions(r, top);

  // analysis (before stages: per-stage data deadlines default to a multiple of the bake)
  const analysis = readAnalysis(r, r.optional(top, 'analysis'));
  const defaultBake = r.duration(r.optional(top, 'bake')) ?? DEFAULTS.bakeMs;
  const stages = readStages(r, r.required(top, 'stages'), defaultBake, analysis?.dataDeadlineFactor);
  const routeDefaults = readRouteDefaults(r, r.optional(top, 'route_defaults'));

  const rollbackFields = optionalMapping(r, r.optional(top, 'rollback'), KEYS.rollback);
  const rollbackDeadline =
    r.duration(r.optional(rollbackFields, 'deadline'), { positive: true }) ?? DEFAULTS.rollbackDeadlineMs;
  const checks = readChecks(r, r.optional(top, 'checks'));
  const notify = readNotify(r, r.optional(top, 'notify'));
  const evaluationEntry = r.optional(top, 'evaluation');
  const evaluation = readEvaluation(r, evaluationEntry, baseDir);

  if (
    src.problems.length > 0 ||
    !relay ||
    !route ||
    !versions ||
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
    baseline: versions.baseline,
    canary: versions.canary,
    stages,
    analysis,
    routeDefaults,
    rollback: { deadlineMs: rollbackDeadline },
    ...(checks && checks.length > 0 ? { checks } : {}),
    ...(notify && notify.length > 0 ? { notify } : {}),
    ...(evaluation ? { evaluation } : {}),
  };
}

/** The document's top level: a mapping of the known keys, or undefined (with its problem). */
function readTop(src: SourceFile, r: PlanReader): Fields | undefined {
  const root = rootEntry(src);
  if (r.isNull(root)) {
    src.problemAt(
      0,
      '',
      'the plan is empty; expected a mapping with relay, route, baseline, canary and stages',
    );
    return undefined;
  }
  if (r.kind(root) !== 'map') {
    r.problem(root, `expected a mapping with relay, route, baseline, canary and stages, got ${r.show(root)}`);
    return undefined;
  }
  return r.mapping(root, KEYS.top);
}

/** `relay:`: its URL (never echoed: it may carry credentials), the key's variable and file. */
function readRelay(
  r: PlanReader,
  relayEntry: Entry | undefined,
  baseDir: string,
): { relay: RelayConfig | undefined; url: string | undefined } {
  const relayFields = relayEntry && r.mapping(relayEntry, KEYS.relay, { secrets: SECRET_MESSAGE });
  const urlEntry = r.required(relayFields, 'url');
  let url: string | undefined;
  if (urlEntry) {
    // Never echo the URL: it may carry credentials.
    const text = r.text(urlEntry) ?? '';
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
  const apiKeyEnv = apiKeyEnvEntry
    ? r.envName(apiKeyEnvEntry, 'the name of an environment variable like RELAY_API_KEY (not the key itself)')
    : DEFAULTS.apiKeyEnv;
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
  return { relay, url };
}

/** `baseline:` and `canary:`, which must be two different versions. */
function readVersions(r: PlanReader, top: Fields): { baseline: VersionRef; canary: VersionRef } | undefined {
  const baseline = readVersion(r, r.required(top, 'baseline'));
  const canary = readVersion(r, r.required(top, 'canary'));
  if (baseline?.tag !== undefined && baseline.tag === canary?.tag) {
    const tagEntry = canary.tagEntry;
    r.problem(
      tagEntry,
      `canary.version_tag is the same as baseline.version_tag ('${canary.tag}'); the canary must be a different version`,
    );
  }
  return baseline && canary ? { baseline: baseline.ref, canary: canary.ref } : undefined;
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
    } else if (r.kind(scenarioEntry) === 'map') {
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
  const systemPrompt = r.string(r.optional(fields, 'system_prompt'), 'a string', { empty: true });
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
