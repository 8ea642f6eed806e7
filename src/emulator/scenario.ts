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

const changeSchema = z.strictObject({
  when: z
    .strictObject({
      weight_at_least: z.number().min(0).max(100).optional(),
      after: durationSchema.optional(),
    })
    .refine((when) => when.weight_at_least !== undefined || when.after !== undefined, {
      message: 'when needs weight_at_least (percent) or after (a duration since the emulator started)',
    }),
  set: partialBehaviourSchema,
});

const versionSchema = z
  .strictObject({
    error_rate: behaviourFields.error_rate.optional(),
    latency_p50_ms: behaviourFields.latency_p50_ms.optional(),
    latency_p99_ms: behaviourFields.latency_p99_ms.optional(),
    cost_per_token: behaviourFields.cost_per_token.optional(),
    changes: z.array(changeSchema).optional(),
  })
  .superRefine(checkPercentiles);

const scenarioSchema = z.strictObject({
  rps: z.number().positive('rps must be above 0').max(1_000_000).optional(),
  seed: z.number().int('seed must be a whole number').optional(),
  default: partialBehaviourSchema.optional(),
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

function normalise(parsed: z.infer<typeof scenarioSchema>): Scenario {
  const scenario: Scenario = {};
  if (parsed.rps !== undefined) scenario.rps = parsed.rps;
  if (parsed.seed !== undefined) scenario.seed = parsed.seed;
  if (parsed.default) scenario.default = definedOnly(parsed.default);
  if (parsed.versions) {
    scenario.versions = {};
    for (const [tag, version] of Object.entries(parsed.versions)) {
      const { changes, ...behaviour } = version;
      const normalised: VersionScenario = definedOnly(behaviour);
      if (changes) {
        normalised.changes = changes.map((change): BehaviourChange => {
          const when: BehaviourChange['when'] = {};
          if (change.when.weight_at_least !== undefined) when.weight_at_least = change.when.weight_at_least;
          if (change.when.after !== undefined) when.after_ms = change.when.after;
          return { when, set: definedOnly(change.set) };
        });
      }
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

/**
 * Which behaviour a version has at a given moment and weight: built-in defaults, then the
 * scenario's default, the version's own values, each change whose condition holds (in file
 * order), and last any change made at run time, which therefore always wins.
 */
export class BehaviourBook {
  private readonly overrides = new Map<string, Partial<Behaviour>>();

  constructor(
    private readonly scenario: Scenario,
    private readonly startedAt: number,
  ) {}

  resolve(tag: string, weight: number, now: number): Behaviour {
    const behaviour: Behaviour = { ...DEFAULT_BEHAVIOUR };
    assignDefined(behaviour, this.scenario.default);
    const version = this.scenario.versions?.[tag];
    if (version) {
      assignDefined(behaviour, version);
      for (const change of version.changes ?? []) {
        const { weight_at_least, after_ms } = change.when;
        if (weight_at_least !== undefined && !(weight >= weight_at_least)) continue;
        if (after_ms !== undefined && !(now - this.startedAt >= after_ms)) continue;
        assignDefined(behaviour, change.set);
      }
    }
    assignDefined(behaviour, this.overrides.get(tag));
    return behaviour;
  }

  override(tag: string, behaviour: Partial<Behaviour>): void {
    this.overrides.set(tag, { ...this.overrides.get(tag), ...definedOnly(behaviour) });
  }
}
