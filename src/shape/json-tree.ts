/**
 * The shape reader over a parsed JSON value: the relay's answers and the emulator's request
 * bodies. JSON has no positions worth naming, so a problem names its key path
 * (`route_rules[1].weight`), which every message already starts with; `line` and `column` are 1.
 */
import type { JsonValue } from '../domain/relay.js';
import type { PlanProblem } from '../errors.js';
import { type Entry, type Kind, type Pair, ShapeReader, type Tree } from './reader.js';

export class JsonTree implements Tree<unknown> {
  readonly problems: PlanProblem[] = [];

  /** `label` names the value in the problems' `file` field, e.g. `fault` or `answer`. */
  constructor(readonly label: string) {}

  /** JSON has no aliases: a node is its own value. */
  resolve(node: unknown): unknown {
    return node;
  }

  kindOf(value: unknown): Kind {
    if (value === null || value === undefined) return 'null';
    if (Array.isArray(value)) return 'list';
    return typeof value === 'object' ? 'map' : 'scalar';
  }

  scalar(value: unknown): unknown {
    return typeof value === 'object' ? undefined : value;
  }

  pairs(map: unknown): Pair[] {
    const object = map as Record<string, unknown>;
    return Object.keys(object).map((name) => ({ keyAt: undefined, key: name, node: object[name] }));
  }

  items(list: unknown): readonly unknown[] {
    return list as unknown[];
  }

  problem(_at: unknown, path: string, message: string): void {
    this.problems.push({ file: this.label, line: 1, column: 1, path, message });
  }

  problemWithin(at: unknown, _needle: string, path: string, message: string): void {
    this.problem(at, path, message);
  }

  /** The value itself: it came from JSON.parse (or from code), so it already is JSON. */
  toJson(node: unknown): JsonValue | undefined {
    return node as JsonValue;
  }
}

/** Reads a JSON value with `read`; any problem reported makes it fail, with every problem listed. */
export function readJson<T>(
  label: string,
  value: unknown,
  read: (r: ShapeReader<unknown>, root: Entry<unknown>) => T | undefined,
): { ok: true; value: T } | { ok: false; problems: PlanProblem[] } {
  const r = new ShapeReader(new JsonTree(label));
  const out = read(r, r.entry(value, ''));
  const { problems } = r.tree;
  if (out !== undefined && problems.length === 0) return { ok: true, value: out };
  return {
    ok: false,
    problems:
      problems.length > 0
        ? problems
        : [{ file: label, line: 1, column: 1, path: '', message: `invalid ${label}` }],
  };
}
