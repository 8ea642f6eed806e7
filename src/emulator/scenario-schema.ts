/**
 * Scenario files (and the emulator's behaviour bodies) read with the shape reader plans are
 * read with (src/shape/reader.ts): a file from the plan's hardened YAML reader
 * (src/plan/yaml-source.ts), with the same limits on size, nesting and aliases and every
 * problem at its file:line:column; a body as JSON, every problem naming its key path. The
 * readers here touch no parser's nodes, so one reader serves both; the wording is the plan's.
 */
import { VERSION_TAG_PATTERN } from '../domain/relay.js';
import { formatPlanDuration as formatDuration } from '../format.js';
import type { PlanReader } from '../plan/reader.js';
import type { Entry, Fields, ShapeReader } from '../shape/reader.js';
import { ANSWER_STYLES, type AnswerBehaviour } from './answers.js';
import type { Behaviour, BehaviourChange, Scenario, VersionScenario } from './types.js';

const BEHAVIOUR_KEYS = ['error_rate', 'latency_p50_ms', 'latency_p99_ms', 'cost_per_token'] as const;
const ANSWER_KEYS = [
  'style',
  'refusal_rate',
  'expectation_failure_rate',
  'ttft_ms',
  'ms_per_token',
  'error_rate',
  'rate_limit_rate',
] as const;

/** Every mapping's keys in a scenario. */
export const SCENARIO_KEYS = {
  top: ['rps', 'rps_changes', 'all_versions', 'seed', 'default', 'answers', 'data_plane', 'versions'],
  behaviour: BEHAVIOUR_KEYS,
  version: [...BEHAVIOUR_KEYS, 'changes', 'answers'],
  change: ['when', 'set'],
  when: ['weight_at_least', 'after', 'between', 'every', 'for'],
  rpsChange: ['after', 'rps'],
  allVersions: ['changes'],
  answers: ANSWER_KEYS,
  dataPlane: ['pinning'],
} as const;

export const MAX_SCENARIO_RPS = 1_000_000;
const PINNING = ['honour', 'ignore', 'no_header'] as const;
const TAG_EXPECTATION = "a version tag of lowercase letters, digits and '-' (1-64 characters)";

/**
 * error_rate, latency_p50_ms, latency_p99_ms and cost_per_token from a mapping, into `out`;
 * false when one of them was wrong. Only the keys given are set (a partial behaviour).
 */
function readBehaviourFields<N>(r: ShapeReader<N>, fields: Fields<N>, out: Partial<Behaviour>): boolean {
  let ok = true;
  const read = (key: keyof Behaviour, expectation: string, test: (n: number) => boolean) => {
    const entry = r.optional(fields, key);
    const n = r.number(entry, expectation, test);
    if (entry && n === undefined) ok = false;
    if (n !== undefined) out[key] = n;
  };
  read('error_rate', 'a number between 0 and 1', (n) => n >= 0 && n <= 1);
  read('latency_p50_ms', 'a number of milliseconds above 0', (n) => n > 0);
  read('latency_p99_ms', 'a number of milliseconds above 0', (n) => n > 0);
  read('cost_per_token', 'a number of at least 0', (n) => n >= 0);
  const p50 = out.latency_p50_ms;
  const p99 = out.latency_p99_ms;
  const p99Entry = r.optional(fields, 'latency_p99_ms');
  if (p50 !== undefined && p99 !== undefined && p99 < p50 && p99Entry) {
    r.problem(p99Entry, `${p99Entry.path}: expected at least latency_p50_ms (${p50}), got ${p99}`);
    ok = false;
  }
  return ok;
}

/** A partial behaviour: `default:`, `set:`, or the body of PUT /_emulator/versions/{tag}/behaviour. */
export function readPartialBehaviour<N>(r: ShapeReader<N>, entry: Entry<N>): Partial<Behaviour> | undefined {
  const fields = r.mapping(entry, BEHAVIOUR_KEYS);
  if (!fields) return undefined;
  const out: Partial<Behaviour> = {};
  return readBehaviourFields(r, fields, out) ? out : undefined;
}

function readWhen<N>(r: PlanReader<N>, entry: Entry<N>): BehaviourChange['when'] | undefined {
  const fields = r.mapping(entry, SCENARIO_KEYS.when);
  if (!fields) return undefined;
  let ok = true;
  const when: BehaviourChange['when'] = {};
  const weightEntry = r.optional(fields, 'weight_at_least');
  const weight = r.number(weightEntry, 'a percentage from 0 to 100', (n) => n >= 0 && n <= 100);
  if (weight !== undefined) when.weight_at_least = weight;
  const duration = (key: string) => {
    const e = r.optional(fields, key);
    const ms = r.duration(e);
    if (e && ms === undefined) ok = false;
    return { entry: e, ms };
  };
  const after = duration('after');
  if (after.ms !== undefined) when.after_ms = after.ms;
  const betweenEntry = r.optional(fields, 'between');
  if (betweenEntry) {
    const list = r.items(betweenEntry);
    if (list === undefined || list.length !== 2) {
      r.fail(betweenEntry, 'a list of two durations, from and until, like [10m, 12m]');
      ok = false;
    } else {
      const [from, until] = list.map((time) => r.duration(time));
      if (from === undefined || until === undefined) ok = false;
      else if (!(until > from)) {
        r.problem(betweenEntry, `${betweenEntry.path}: the second time must be after the first`);
        ok = false;
      } else when.between_ms = [from, until];
    }
  }
  const every = duration('every');
  const burst = duration('for');
  if (weightEntry && weight === undefined) ok = false;
  if (!weightEntry && !after.entry && !betweenEntry && !every.entry) {
    r.problem(
      entry,
      `${entry.path}: needs weight_at_least (percent), after (a duration), between ([from, until]) or every with for (periodic bursts)`,
    );
    ok = false;
  }
  if ((every.entry === undefined) !== (burst.entry === undefined)) {
    const [has, lacks] = every.entry === undefined ? [burst, 'every'] : [every, 'for'];
    if (has.entry) {
      r.problemAtKey(
        has.entry,
        `${has.entry.path} needs ${lacks}: e.g. { every: 2m, for: 10s } is a 10 s burst every 2 minutes`,
      );
    }
    ok = false;
  } else if (every.ms !== undefined && burst.ms !== undefined) {
    if (every.ms > 0 && burst.ms < every.ms) {
      when.every_ms = every.ms;
      when.for_ms = burst.ms;
    } else if (burst.entry) {
      r.problem(
        burst.entry,
        `${burst.entry.path}: a burst must be shorter than its period, but for is ${formatDuration(burst.ms)} and every ${formatDuration(every.ms)}`,
      );
      ok = false;
    }
  }
  return ok ? when : undefined;
}

function readChanges<N>(r: PlanReader<N>, entry: Entry<N> | undefined): BehaviourChange[] | undefined {
  if (!entry) return undefined;
  const list = r.items(entry);
  if (list === undefined)
    return r.fail(entry, 'a list of changes like [{when: {after: 10m}, set: {error_rate: 0.1}}]');
  const changes: BehaviourChange[] = [];
  for (const change of list) {
    const fields = r.mapping(change, SCENARIO_KEYS.change);
    const whenEntry = r.required(fields, 'when');
    const setEntry = r.required(fields, 'set');
    const when = whenEntry && readWhen(r, whenEntry);
    const set = setEntry && readPartialBehaviour(r, setEntry);
    if (when && set) changes.push({ when, set });
  }
  return changes.length === list.length ? changes : undefined;
}

function readAnswers<N>(r: PlanReader<N>, entry: Entry<N> | undefined): Partial<AnswerBehaviour> | undefined {
  if (!entry) return undefined;
  const fields = r.mapping(entry, ANSWER_KEYS);
  if (!fields) return undefined;
  const out: Partial<AnswerBehaviour> = {};
  const style = r.oneOf(r.optional(fields, 'style'), ANSWER_STYLES);
  if (style !== undefined) out.style = style;
  const number = (key: Exclude<keyof AnswerBehaviour, 'style'>, expectation: string, max: number) => {
    const n = r.number(r.optional(fields, key), expectation, (v) => v >= 0 && v <= max);
    if (n !== undefined) out[key] = n;
  };
  for (const key of ['refusal_rate', 'expectation_failure_rate', 'error_rate', 'rate_limit_rate'] as const) {
    number(key, 'a number between 0 and 1', 1);
  }
  number('ttft_ms', 'a number of milliseconds from 0 to 60000', 60_000);
  number('ms_per_token', 'a number of milliseconds from 0 to 1000', 1_000);
  return out;
}

function readVersions<N>(
  r: PlanReader<N>,
  entry: Entry<N> | undefined,
): Record<string, VersionScenario> | undefined {
  if (!entry) return undefined;
  const pairs = r.pairs(entry);
  if (pairs === undefined) return r.fail(entry, 'a mapping of version tags to their behaviour');
  const versions: Record<string, VersionScenario> = {};
  for (const { key, entry: versionEntry } of pairs) {
    // A tag written as a number (`2024:`) is still a tag; true or null as a key is not.
    const tag = typeof key === 'string' || typeof key === 'number' ? String(key) : '';
    if (!VERSION_TAG_PATTERN.test(tag)) {
      const shown = tag === '' ? 'a key that is not a name' : `'${tag}'`;
      r.problemAtKey(versionEntry, `${entry.path}: expected ${TAG_EXPECTATION}, got ${shown}`);
      continue;
    }
    const fields = r.mapping(versionEntry, SCENARIO_KEYS.version);
    if (!fields) continue;
    const version: VersionScenario = {};
    readBehaviourFields(r, fields, version);
    const changes = readChanges(r, r.optional(fields, 'changes'));
    if (changes) version.changes = changes;
    const answers = readAnswers(r, r.optional(fields, 'answers'));
    if (answers) version.answers = answers;
    Object.defineProperty(versions, tag, { value: version, enumerable: true, writable: true });
  }
  return versions;
}

/** Reads a whole scenario; the problems are on the reader's source (none: the scenario is good). */
export function readScenario<N>(r: PlanReader<N>, root: Entry<N>): Scenario {
  const scenario: Scenario = {};
  // An empty file is a scenario of defaults.
  if (r.isNull(root)) return scenario;
  const top = r.mapping(root, SCENARIO_KEYS.top);
  if (!top) return scenario;
  const rpsExpectation = `a number of requests per second above 0 and at most ${MAX_SCENARIO_RPS}`;
  const rps = r.number(r.optional(top, 'rps'), rpsExpectation, (n) => n > 0 && n <= MAX_SCENARIO_RPS);
  if (rps !== undefined) scenario.rps = rps;
  const seed = r.number(r.optional(top, 'seed'), 'a whole number', (n) => Number.isSafeInteger(n));
  if (seed !== undefined) scenario.seed = seed;
  const defaultEntry = r.optional(top, 'default');
  const behaviour = defaultEntry && readPartialBehaviour(r, defaultEntry);
  if (behaviour) scenario.default = behaviour;

  const allEntry = r.optional(top, 'all_versions');
  const all = allEntry && r.mapping(allEntry, SCENARIO_KEYS.allVersions);
  const allChanges = readChanges(r, r.required(all, 'changes'));
  if (allChanges) scenario.all_versions = { changes: allChanges };

  const rpsChangesEntry = r.optional(top, 'rps_changes');
  if (rpsChangesEntry) {
    const list = r.items(rpsChangesEntry);
    if (list === undefined) r.fail(rpsChangesEntry, 'a list like [{after: 10m, rps: 2000}]');
    else {
      const changes: Array<{ after_ms: number; rps: number }> = [];
      let previous: number | undefined;
      for (const change of list) {
        const fields = r.mapping(change, SCENARIO_KEYS.rpsChange);
        const afterEntry = r.required(fields, 'after');
        const after = r.duration(afterEntry);
        const n = r.number(r.required(fields, 'rps'), rpsExpectation, (v) => v > 0 && v <= MAX_SCENARIO_RPS);
        if (after !== undefined && afterEntry && previous !== undefined && !(after > previous)) {
          r.problem(
            afterEntry,
            `${afterEntry.path}: rps_changes must be in time order, but ${formatDuration(after)} follows ${formatDuration(previous)}`,
          );
        }
        if (after !== undefined) previous = after;
        if (after !== undefined && n !== undefined) changes.push({ after_ms: after, rps: n });
      }
      scenario.rps_changes = changes;
    }
  }

  const answers = readAnswers(r, r.optional(top, 'answers'));
  if (answers) scenario.answers = answers;
  const dataPlane = r.optional(top, 'data_plane');
  const plane = dataPlane && r.mapping(dataPlane, SCENARIO_KEYS.dataPlane);
  const pinning = r.oneOf(r.optional(plane, 'pinning'), PINNING);
  if (plane) scenario.data_plane = pinning === undefined ? {} : { pinning };
  const versions = readVersions(r, r.optional(top, 'versions'));
  if (versions) scenario.versions = versions;
  return scenario;
}
