/**
 * Scenario files: per-version behaviour of the simulated traffic and how it changes with the
 * version's weight or with time. They are read like plans: the same hardened YAML reader and the
 * same walker (./scenario-schema.ts), so every problem is reported with file:line:column.
 */
// Synchronous: node:fs/promises costs `canary validate` about 1 ms to load (src/plan/load.ts).
import { readFileSync } from 'node:fs';
import { PlanError, type PlanProblem } from '../errors.js';
import { PlanReader, rootEntry } from '../plan/reader.js';
import { SourceFile } from '../plan/yaml-source.js';
import { readJson } from '../shape/json-tree.js';
import { validation } from './api-error.js';
import { readPartialBehaviour, readScenario } from './scenario-schema.js';
import { type Behaviour, type BehaviourChange, DEFAULT_BEHAVIOUR, type Scenario } from './types.js';

const BEHAVIOUR_KEYS = ['error_rate', 'latency_p50_ms', 'latency_p99_ms', 'cost_per_token'] as const;

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Parses scenario YAML; throws PlanError listing every problem with its position. */
export function parseScenario(text: string, file: string): Scenario {
  const src = new SourceFile(file, text, 'scenario');
  const scenario = src.parse() ? readScenario(new PlanReader(src), rootEntry(src)) : undefined;
  if (scenario === undefined || src.problems.length > 0) {
    const problems: PlanProblem[] = [...src.problems].sort((a, b) => a.line - b.line || a.column - b.column);
    throw new PlanError(problems);
  }
  return scenario;
}

/**
 * A partial behaviour from JSON (PUT /_emulator/versions/{tag}/behaviour, or the control API),
 * checked like `set:` in a scenario; a bad one is a 422 naming the field.
 */
export function parseBehaviour(body: unknown): Partial<Behaviour> {
  const read = readJson('behaviour', body, readPartialBehaviour);
  if (read.ok) return read.value;
  const problem = read.problems[0];
  throw validation(problem?.path || undefined, problem?.message ?? 'invalid behaviour');
}

export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new PlanError([{ file, line: 1, column: 1, path: '', message: `cannot read scenario: ${reason}` }]);
  }
  return parseScenario(text, file);
}

function assignDefined(target: Behaviour, source: Partial<Behaviour> | undefined): void {
  if (!source) return;
  for (const key of BEHAVIOUR_KEYS) {
    const value = source[key];
    if (value !== undefined) target[key] = value;
  }
}

/** A 32-bit mix (splitmix32's finaliser): nearby inputs give unrelated outputs. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Which behaviour a version has at a given moment and weight: built-in defaults, then the
 * scenario's default, the version's own values, each change whose condition holds (in file
 * order), the `all_versions` changes that hold, and last any change made at run time, which
 * therefore always wins.
 */
export class BehaviourBook {
  private readonly overrides = new Map<string, Partial<Behaviour>>();

  constructor(
    private readonly scenario: Scenario,
    private readonly startedAt: number,
    /** Chooses the phase of periodic bursts, so seeds do not all burst at the same moments. */
    private readonly seed = 0,
  ) {}

  /** Where in its period a periodic change starts (ms), fixed per seed and change. */
  private phase(owner: string, index: number, every: number): number {
    return mix32(this.seed ^ hashText(`${owner}#${index}`)) % Math.max(1, Math.round(every));
  }

  private holds(change: BehaviourChange, owner: string, index: number, weight: number, now: number): boolean {
    const { weight_at_least, after_ms, between_ms, every_ms, for_ms } = change.when;
    const t = now - this.startedAt;
    if (weight_at_least !== undefined && !(weight >= weight_at_least)) return false;
    if (after_ms !== undefined && !(t >= after_ms)) return false;
    if (between_ms !== undefined && !(t >= between_ms[0] && t < between_ms[1])) return false;
    if (every_ms !== undefined && for_ms !== undefined) {
      const into = (((t - this.phase(owner, index, every_ms)) % every_ms) + every_ms) % every_ms;
      if (!(into < for_ms)) return false;
    }
    return true;
  }

  resolve(tag: string, weight: number, now: number): Behaviour {
    const behaviour: Behaviour = { ...DEFAULT_BEHAVIOUR };
    assignDefined(behaviour, this.scenario.default);
    const version = this.scenario.versions?.[tag];
    if (version) {
      assignDefined(behaviour, version);
      (version.changes ?? []).forEach((change, i) => {
        if (this.holds(change, tag, i, weight, now)) assignDefined(behaviour, change.set);
      });
    }
    (this.scenario.all_versions?.changes ?? []).forEach((change, i) => {
      if (this.holds(change, '*', i, weight, now)) assignDefined(behaviour, change.set);
    });
    assignDefined(behaviour, this.overrides.get(tag));
    return behaviour;
  }

  /**
   * The first moment after `t` at which the scenario changes anything by the clock (a timed
   * behaviour change starts or ends, a periodic burst's edge, an rps change), or Infinity: a
   * stretch of traffic simulated in one piece must not straddle one.
   */
  nextChange(t: number): number {
    const since = t - this.startedAt;
    let next = Number.POSITIVE_INFINITY;
    const consider = (at: number) => {
      if (at > since && at < next) next = at;
    };
    const scan = (changes: BehaviourChange[] | undefined, owner: string) => {
      (changes ?? []).forEach((change, i) => {
        const { after_ms, between_ms, every_ms, for_ms } = change.when;
        if (after_ms !== undefined) consider(after_ms);
        if (between_ms !== undefined) {
          consider(between_ms[0]);
          consider(between_ms[1]);
        }
        if (every_ms !== undefined && for_ms !== undefined) {
          const into = (((since - this.phase(owner, i, every_ms)) % every_ms) + every_ms) % every_ms;
          consider(since - into + (into < for_ms ? for_ms : every_ms));
        }
      });
    };
    for (const [tag, version] of Object.entries(this.scenario.versions ?? {})) scan(version.changes, tag);
    scan(this.scenario.all_versions?.changes, '*');
    for (const change of this.scenario.rps_changes ?? []) consider(change.after_ms);
    return this.startedAt + next;
  }

  override(tag: string, behaviour: Partial<Behaviour>): void {
    this.overrides.set(tag, { ...this.overrides.get(tag), ...definedOnly(behaviour) });
  }
}

/** Requests per second on each route at a moment: the base rate, then the schedule's latest change. */
export function rpsSchedule(scenario: Scenario, baseRps: number, startedAt: number): (now: number) => number {
  const changes = scenario.rps_changes ?? [];
  if (changes.length === 0) return () => baseRps;
  return (now) => {
    let rps = baseRps;
    for (const change of changes) if (now - startedAt >= change.after_ms) rps = change.rps;
    return rps;
  };
}
