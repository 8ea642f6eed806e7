/**
 * Scenario files: per-version behaviour of the simulated traffic and how it changes with the
 * version's weight or with time. Every problem is reported with file:line:column, as for plans.
 */
import { readFile } from 'node:fs/promises';
import parseDuration from 'parse-duration';
import { isMap, isNode, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { PlanError, type PlanProblem } from '../errors.js';
import { VERSION_TAG_PATTERN } from '../relay/types.js';
import { answersSchema, dataPlaneSchema } from './answers.js';
import {
  type Behaviour,
  type BehaviourChange,
  DEFAULT_BEHAVIOUR,
  type Scenario,
  type VersionScenario,
} from './types.js';

const BEHAVIOUR_KEYS = ['error_rate', 'latency_p50_ms', 'latency_p99_ms', 'cost_per_token'] as const;

const behaviourFields = {
  error_rate: z
    .number()
    .min(0, 'error_rate must be between 0 and 1')
    .max(1, 'error_rate must be between 0 and 1'),
  latency_p50_ms: z.number().positive('latency_p50_ms must be above 0'),
  latency_p99_ms: z.number().positive('latency_p99_ms must be above 0'),
  cost_per_token: z.number().min(0, 'cost_per_token must be 0 or more'),
};

function checkPercentiles(value: Partial<Behaviour>, ctx: z.RefinementCtx): void {
  if (
    value.latency_p50_ms !== undefined &&
    value.latency_p99_ms !== undefined &&
    value.latency_p99_ms < value.latency_p50_ms
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['latency_p99_ms'],
      message: `latency_p99_ms (${value.latency_p99_ms}) must be at least latency_p50_ms (${value.latency_p50_ms})`,
    });
  }
}

/** A partial behaviour, as `PUT /_emulator/versions/{tag}/behaviour` and `set:` take it. */
export const partialBehaviourSchema = z
  .strictObject({
    error_rate: behaviourFields.error_rate.optional(),
    latency_p50_ms: behaviourFields.latency_p50_ms.optional(),
    latency_p99_ms: behaviourFields.latency_p99_ms.optional(),
    cost_per_token: behaviourFields.cost_per_token.optional(),
  })
  .superRefine(checkPercentiles);

const durationSchema = z.string().transform((text, ctx) => {
  // parse-duration reads a bare number as milliseconds, which is never what a scenario means.
  const ms = /[a-z]/i.test(text) ? parseDuration(text) : null;
  if (ms === null || !(ms >= 0)) {
    ctx.addIssue({ code: 'custom', message: `'${text}' is not a duration; write e.g. 90s, 10m or 1h30m` });
    return z.NEVER;
  }
  return ms;
});

const whenSchema = z
  .strictObject({
    weight_at_least: z.number().min(0).max(100).optional(),
    after: durationSchema.optional(),
    between: z.tuple([durationSchema, durationSchema]).optional(),
    every: durationSchema.optional(),
    for: durationSchema.optional(),
  })
  .superRefine((when, ctx) => {
    const any = ['weight_at_least', 'after', 'between', 'every'].some(
      (k) => when[k as keyof typeof when] !== undefined,
    );
    if (!any) {
      ctx.addIssue({
        code: 'custom',
        message:
          'when needs weight_at_least (percent), after (a duration), between ([from, until]) or every with for (periodic bursts)',
      });
    }
    if (when.between && !(when.between[1] > when.between[0])) {
      ctx.addIssue({
        code: 'custom',
        path: ['between'],
        message: 'between: the second time must be after the first',
      });
    }
    if ((when.every === undefined) !== (when.for === undefined)) {
      const [has, lacks] = when.every === undefined ? ['for', 'every'] : ['every', 'for'];
      ctx.addIssue({
        code: 'custom',
        path: [has],
        message: `${has} needs ${lacks}: e.g. { every: 2m, for: 10s } is a 10 s burst every 2 minutes`,
      });
    } else if (
      when.every !== undefined &&
      when.for !== undefined &&
      !(when.every > 0 && when.for < when.every)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['for'],
        message: 'for must be shorter than every (and every above 0)',
      });
    }
  });

const changeSchema = z.strictObject({ when: whenSchema, set: partialBehaviourSchema });

const versionSchema = z
  .strictObject({
    error_rate: behaviourFields.error_rate.optional(),
    latency_p50_ms: behaviourFields.latency_p50_ms.optional(),
    latency_p99_ms: behaviourFields.latency_p99_ms.optional(),
    cost_per_token: behaviourFields.cost_per_token.optional(),
    changes: z.array(changeSchema).optional(),
    answers: answersSchema.optional(),
  })
  .superRefine(checkPercentiles);

const rpsSchema = z.number().positive('rps must be above 0').max(1_000_000, 'rps must be at most 1000000');

const scenarioSchema = z.strictObject({
  rps: rpsSchema.optional(),
  rps_changes: z
    .array(z.strictObject({ after: durationSchema, rps: rpsSchema }))
    .optional()
    .superRefine((changes, ctx) => {
      for (let i = 1; i < (changes?.length ?? 0); i++) {
        if (!((changes?.[i]?.after ?? 0) > (changes?.[i - 1]?.after ?? 0))) {
          ctx.addIssue({ code: 'custom', path: [i, 'after'], message: 'rps_changes must be in time order' });
        }
      }
    }),
  all_versions: z.strictObject({ changes: z.array(changeSchema) }).optional(),
  seed: z.number().int('seed must be a whole number').optional(),
  default: partialBehaviourSchema.optional(),
  answers: answersSchema.optional(),
  data_plane: dataPlaneSchema.optional(),
  versions: z
    .record(
      z.string().regex(VERSION_TAG_PATTERN, 'version tags are lowercase letters, digits and -, at most 64'),
      versionSchema,
    )
    .optional(),
});

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function normaliseChange(change: z.infer<typeof changeSchema>): BehaviourChange {
  const when: BehaviourChange['when'] = {};
  const w = change.when;
  if (w.weight_at_least !== undefined) when.weight_at_least = w.weight_at_least;
  if (w.after !== undefined) when.after_ms = w.after;
  if (w.between !== undefined) when.between_ms = [w.between[0], w.between[1]];
  if (w.every !== undefined && w.for !== undefined) {
    when.every_ms = w.every;
    when.for_ms = w.for;
  }
  return { when, set: definedOnly(change.set) };
}

function normalise(parsed: z.infer<typeof scenarioSchema>): Scenario {
  const scenario: Scenario = {};
  if (parsed.rps !== undefined) scenario.rps = parsed.rps;
  if (parsed.seed !== undefined) scenario.seed = parsed.seed;
  if (parsed.default) scenario.default = definedOnly(parsed.default);
  if (parsed.all_versions)
    scenario.all_versions = { changes: parsed.all_versions.changes.map(normaliseChange) };
  if (parsed.rps_changes)
    scenario.rps_changes = parsed.rps_changes.map((c) => ({ after_ms: c.after, rps: c.rps }));
  if (parsed.answers) scenario.answers = definedOnly(parsed.answers);
  if (parsed.data_plane) scenario.data_plane = definedOnly(parsed.data_plane);
  if (parsed.versions) {
    scenario.versions = {};
    for (const [tag, version] of Object.entries(parsed.versions)) {
      const { changes, ...behaviour } = version;
      const normalised: VersionScenario = definedOnly(behaviour);
      if (changes) normalised.changes = changes.map(normaliseChange);
      scenario.versions[tag] = normalised;
    }
  }
  return scenario;
}

function position(lineCounter: LineCounter, offset: number): { line: number; column: number } {
  const pos = lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** The node nearest to `path` that exists (a missing key points at its parent). */
function nodeAt(doc: ReturnType<typeof parseDocument>, path: PropertyKey[]): Node | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node)) return node;
  }
  return undefined;
}

function keyNode(node: Node | undefined, key: string): Node | undefined {
  if (!isMap(node)) return undefined;
  for (const pair of node.items) {
    if (isScalar(pair.key) && String(pair.key.value) === key) return pair.key;
  }
  return undefined;
}

/** Parses scenario YAML; throws PlanError listing every problem with its position. */
export function parseScenario(text: string, file: string): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PlanError(
      doc.errors.map((error) => ({
        file,
        line: error.linePos?.[0].line ?? 1,
        column: error.linePos?.[0].col ?? 1,
        path: '',
        message: error.message.split('\n')[0] ?? error.message,
      })),
    );
  }
  const data = doc.toJS() ?? {};
  const result = scenarioSchema.safeParse(data);
  if (result.success) return normalise(result.data);

  const problems: PlanProblem[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path;
    if (issue.code === 'invalid_key') {
      // A bad map key: point at the key itself, with the key schema's own message.
      const key = String(path[path.length - 1]);
      const node = keyNode(nodeAt(doc, path.slice(0, -1)), key);
      const { line, column } = node?.range ? position(lineCounter, node.range[0]) : { line: 1, column: 1 };
      const message = issue.issues[0]?.message ?? issue.message;
      problems.push({
        file,
        line,
        column,
        path: path.map(String).join('.'),
        message: `'${key}': ${message}`,
      });
      continue;
    }
    const parent = nodeAt(doc, path);
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      const node = key === undefined ? parent : (keyNode(parent, key) ?? parent);
      const { line, column } = node?.range ? position(lineCounter, node.range[0]) : { line: 1, column: 1 };
      const dotted = [...path, ...(key === undefined ? [] : [key])].map(String).join('.');
      const missing = issue.code === 'invalid_type' && path.length > 0 && !doc.hasIn(path as unknown[]);
      const message =
        issue.code === 'unrecognized_keys'
          ? `unknown key '${key}'${path.length ? ` in ${path.map(String).join('.')}` : ''}`
          : missing
            ? `${dotted} is required`
            : issue.message.startsWith(`${String(path[path.length - 1])} `)
              ? `${[...path.slice(0, -1).map(String), issue.message].join('.')}`
              : `${dotted ? `${dotted}: ` : ''}${issue.message}`;
      problems.push({ file, line, column, path: dotted, message });
    }
  }
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  throw new PlanError(problems);
}

export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
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
