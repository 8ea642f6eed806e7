/**
 * The one way canary checks the shape of what it reads: plans and scenario files (YAML), the
 * emulator's request bodies and the relay's answers (JSON). A reader walks a tree of values
 * through an adapter (`Tree`): src/plan/yaml-source.ts for YAML nodes, which places each problem
 * at its line:column, and ./json-tree.ts for parsed JSON, which names the key path
 * (`route_rules[1].weight`). The checks and their wording live here once, for both.
 *
 * Why a walker and not a schema library (zod, valibot): a library's issues carry a path that can
 * be mapped back to a node, but the messages are then the library's, rewritten after the fact;
 * and those libraries skip refinements on an object once any of its fields fails, which would
 * hide the cross-field problems (weights out of order, window < interval) behind the first typo.
 * Here each check says what it expected, where, with a did-you-mean for a misspelt key, and it
 * walks on after a problem, so one run lists all of them. This module imports no parser: the
 * rollback bundle checks the relay's answers with it and carries no YAML.
 */
import { closest, distance } from 'fastest-levenshtein';
import type { JsonValue } from '../domain/relay.js';
import type { PlanProblem } from '../errors.js';

/** What a value is, once aliases are followed; an empty value and an explicit null are both 'null'. */
export type Kind = 'null' | 'map' | 'list' | 'scalar';

/** A mapping's key and value as written; `key` is the key's scalar value (undefined for a mapping or a list). */
export interface Pair {
  keyAt: unknown;
  key: unknown;
  node: unknown;
}

/** A key as a name, or undefined when it is not a plain one (null, a mapping, a list). */
function nameOf(key: unknown): string | undefined {
  return key === null || key === undefined || typeof key === 'object' ? undefined : String(key);
}

/**
 * A tree of values the reader walks, with `N` the adapter's resolved value. Written nodes
 * (`unknown`) may be aliases until resolved; problems are placed at a written node when the
 * adapter knows where nodes are, else named by path alone.
 */
export interface Tree<N> {
  readonly problems: PlanProblem[];
  /** The value a written node stands for, or undefined for none (or an alias the tree refuses). */
  resolve(node: unknown, path: string): N | undefined;
  kindOf(value: N | undefined): Kind;
  /** A scalar's own value (string, number, boolean, …); undefined for anything else. */
  scalar(value: N | undefined): unknown;
  pairs(map: N, path: string): Pair[];
  items(list: N): readonly unknown[];
  problem(at: unknown, path: string, message: string): void;
  /** A problem at `needle` within a scalar's text when the tree has text, else at the scalar. */
  problemWithin(at: unknown, needle: string, path: string, message: string): void;
  /** A free-form value (parameters, metadata) as JSON, problems reported for what JSON cannot hold. */
  toJson(node: unknown, path: string): JsonValue | undefined;
}

/** A key and its value as written; `node` is the value as written (maybe an alias), `value` resolved. */
export interface Entry<N> {
  path: string;
  keyNode: unknown;
  node: unknown;
  value: N | undefined;
}

export interface Fields<N> {
  owner: Entry<N>;
  entries: Map<string, Entry<N>>;
}

export interface MappingOptions {
  /** Refuse secret-looking keys (anywhere under an unknown key too), with this message. */
  secrets?: string;
  /** Let unknown keys pass unreported, as a relay's answers may carry fields canary does not know. */
  loose?: boolean;
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

/** How a message shows a value that came: `nothing`, `a mapping`, `a list`, `'text'`, `42`. */
export function showValue(kind: Kind, raw: unknown): string {
  if (kind === 'null') return 'nothing';
  if (kind === 'map') return 'a mapping';
  if (kind === 'list') return 'a list';
  if (typeof raw === 'string') return `'${raw.length > 40 ? `${raw.slice(0, 40)}…` : raw}'`;
  return String(raw);
}

export function joinPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

function describeOwner(path: string): string {
  return path === '' ? 'at the top level' : `in ${path}`;
}

export class ShapeReader<N> {
  constructor(readonly tree: Tree<N>) {}

  /** Where to point for a value: the value itself, or its key when the value is empty. */
  private at(entry: Entry<N>): unknown {
    if (this.isNull(entry) && entry.keyNode !== undefined) return entry.keyNode;
    return entry.node ?? entry.keyNode;
  }

  /** An entry for a written node (a list item, a value found by hand), resolved. */
  entry(node: unknown, path: string, keyNode?: unknown): Entry<N> {
    return { path, keyNode, node, value: node === null ? undefined : this.tree.resolve(node, path) };
  }

  kind(entry: Entry<N>): Kind {
    return this.tree.kindOf(entry.value);
  }

  isNull(entry: Entry<N>): boolean {
    return this.tree.kindOf(entry.value) === 'null';
  }

  /** A scalar's value, undefined for a mapping, a list or nothing. */
  scalar(entry: Entry<N>): unknown {
    return this.tree.scalar(entry.value);
  }

  /** A string scalar's text, else undefined (no problem reported). */
  text(entry: Entry<N>): string | undefined {
    const v = this.tree.scalar(entry.value);
    return typeof v === 'string' ? v : undefined;
  }

  show(entry: Entry<N>): string {
    return showValue(this.kind(entry), this.scalar(entry));
  }

  /** A list's items as entries (`path[i]`), or undefined when the value is not a list. */
  items(entry: Entry<N>): Entry<N>[] | undefined {
    const list = entry.value;
    if (list === undefined || this.tree.kindOf(list) !== 'list') return undefined;
    return this.tree.items(list).map((node, i) => this.entry(node, `${entry.path}[${i}]`));
  }

  /**
   * A mapping's keys as written (all of them, unchecked: `key` is the key's scalar value, `name`
   * the key as text when it is a plain name), or undefined when the value is not a mapping.
   */
  pairs(entry: Entry<N>): Array<{ key: unknown; name: string | undefined; entry: Entry<N> }> | undefined {
    const map = entry.value;
    if (map === undefined || this.tree.kindOf(map) !== 'map') return undefined;
    return this.tree.pairs(map, entry.path).map(({ keyAt, key, node }) => {
      const name = nameOf(key);
      return { key, name, entry: this.entry(node, joinPath(entry.path, name ?? ''), keyAt) };
    });
  }

  problem(entry: Entry<N>, message: string): void {
    this.tree.problem(this.at(entry), entry.path, message);
  }

  /** Reports a problem at `needle` inside a scalar's source text when it is there, else at the scalar. */
  problemWithin(entry: Entry<N>, needle: string, message: string): void {
    this.tree.problemWithin(this.at(entry), needle, entry.path, message);
  }

  problemAtKey(entry: Entry<N>, message: string): void {
    this.tree.problem(entry.keyNode ?? this.at(entry), entry.path, message);
  }

  fail(entry: Entry<N>, expectation: string): undefined {
    const where = entry.path === '' ? '' : `${entry.path}: `;
    this.problem(entry, `${where}expected ${expectation}, got ${this.show(entry)}`);
    return undefined;
  }

  /** Reads a mapping, reporting keys it does not know (with a suggestion) and secret-looking keys. */
  mapping(owner: Entry<N>, known: readonly string[], options: MappingOptions = {}): Fields<N> | undefined {
    const map = owner.value;
    if (map === undefined || this.tree.kindOf(map) !== 'map') return this.fail(owner, 'a mapping');
    const entries = new Map<string, Entry<N>>();
    for (const pair of this.tree.pairs(map, owner.path)) {
      const { keyAt } = pair;
      const key = nameOf(pair.key);
      if (key === undefined) {
        this.tree.problem(keyAt, owner.path, `keys ${describeOwner(owner.path)} must be plain names`);
        continue;
      }
      const path = joinPath(owner.path, key);
      if (options.secrets !== undefined && looksLikeSecretKey(key)) {
        this.tree.problem(keyAt, path, options.secrets);
        continue;
      }
      if (!known.includes(key)) {
        if (options.loose) continue;
        this.tree.problem(keyAt, path, unknownKeyMessage(key, owner.path, known));
        if (options.secrets !== undefined) this.findSecrets(this.entry(pair.node, path), options.secrets, 0);
        continue;
      }
      entries.set(key, this.entry(pair.node, path, keyAt));
    }
    return { owner, entries };
  }

  /** Secret-looking keys nested anywhere under an unknown key (e.g. `headers.Authorization`). */
  private findSecrets(entry: Entry<N>, message: string, depth: number): void {
    if (depth > 16) return;
    for (const item of this.items(entry) ?? []) this.findSecrets(item, message, depth + 1);
    for (const { name, entry: value } of this.pairs(entry) ?? []) {
      if (looksLikeSecretKey(name ?? '')) this.tree.problem(value.keyNode, value.path, message);
      else this.findSecrets(value, message, depth + 1);
    }
  }

  /** A key that may be left out; an explicit null counts as left out. */
  optional(fields: Fields<N> | undefined, key: string): Entry<N> | undefined {
    const entry = fields?.entries.get(key);
    return entry === undefined || this.isNull(entry) ? undefined : entry;
  }

  required(fields: Fields<N> | undefined, key: string): Entry<N> | undefined {
    if (fields === undefined) return undefined;
    const entry = fields.entries.get(key);
    if (entry === undefined) {
      const owner = fields.owner;
      this.tree.problem(
        owner.keyNode ?? owner.node,
        joinPath(owner.path, key),
        `missing required key '${key}' ${describeOwner(owner.path)}`,
      );
      return undefined;
    }
    if (this.isNull(entry)) {
      this.problem(entry, `${entry.path}: needs a value`);
      return undefined;
    }
    return entry;
  }

  /** A string; an empty one only with `{ empty: true }` (a plan's empty string is a mistake, a relay's a value). */
  string(
    entry: Entry<N> | undefined,
    expectation = 'a string',
    options: { empty?: boolean } = {},
  ): string | undefined {
    if (entry === undefined) return undefined;
    const text = this.text(entry);
    if (text !== undefined && (text.length > 0 || options.empty)) return text;
    return this.fail(entry, expectation);
  }

  pattern(entry: Entry<N> | undefined, pattern: RegExp, expectation: string): string | undefined {
    const text = this.string(entry, expectation);
    if (text === undefined || entry === undefined) return undefined;
    if (pattern.test(text)) return text;
    return this.fail(entry, expectation);
  }

  number(entry: Entry<N> | undefined, expectation: string, ok: (n: number) => boolean): number | undefined {
    if (entry === undefined) return undefined;
    const v = this.scalar(entry);
    if (typeof v === 'number' && Number.isFinite(v) && ok(v)) return v;
    return this.fail(entry, expectation);
  }

  /** A value that must be one of a few words; `expectation` says so when it is not. */
  oneOf<T extends string>(
    entry: Entry<N> | undefined,
    words: readonly T[],
    expectation = `one of ${words.join(', ')}`,
  ): T | undefined {
    if (entry === undefined) return undefined;
    const v = this.scalar(entry);
    if (typeof v === 'string' && (words as readonly string[]).includes(v)) return v as T;
    return this.fail(entry, expectation);
  }

  boolean(entry: Entry<N> | undefined): boolean | undefined {
    if (entry === undefined) return undefined;
    const v = this.scalar(entry);
    if (typeof v === 'boolean') return v;
    return this.fail(entry, 'true or false');
  }

  json(entry: Entry<N> | undefined): { [key: string]: JsonValue } | undefined {
    if (entry === undefined) return undefined;
    if (this.kind(entry) !== 'map') return this.fail(entry, 'a mapping');
    const before = this.tree.problems.length;
    const value = this.tree.toJson(entry.node, entry.path);
    if (this.tree.problems.length > before || value === undefined || value === null) return undefined;
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

export function optionalMapping<N>(
  r: ShapeReader<N>,
  entry: Entry<N> | undefined,
  known: readonly string[],
): Fields<N> | undefined {
  return entry ? r.mapping(entry, known) : undefined;
}
