/**
 * The one way canary validates what a person writes: plans, scenario files and the emulator's
 * JSON request bodies. It reads values from the node tree of a hardened SourceFile
 * (src/plan/yaml-source.ts), reports every problem at the node that causes it (file:line:column
 * and what was expected), and keeps going, so one run lists all of them.
 *
 * Why a walker over yaml nodes and not a schema library: a library's issues carry a path, which
 * can be mapped back to a node (scenarios were read with zod that way until issue 16), but the
 * messages are then the library's, rewritten after the fact; and zod or valibot skip refinements
 * on an object once any of its fields fails, which would hide the cross-field problems (weights
 * out of order, window < interval) behind the first typo. Here each check says what it expected,
 * where, with a did-you-mean for a misspelt key, and costs no start-up beyond the yaml parser.
 */
import { homedir } from 'node:os';
import { closest, distance } from 'fastest-levenshtein';
import { isMap, isScalar, isSeq, type Node, type Scalar } from 'yaml';
import type { JsonValue } from '../domain/relay.js';
import type { PlanProblem } from '../errors.js';
import { parseDuration } from './duration.js';
import { SourceFile, type ValueNode } from './yaml-source.js';

export const SECRET_MESSAGE =
  'the API key never goes in a plan: set RELAY_API_KEY (or relay.api_key_env) or relay.api_key_file';

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

export function isNull(value: ValueNode | undefined): boolean {
  return value === undefined || (isScalar(value) && value.value === null);
}

export function show(value: ValueNode | undefined): string {
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

  /** A value that must be one of a few words. */
  oneOf<T extends string>(entry: Entry | undefined, words: readonly T[]): T | undefined {
    if (entry === undefined) return undefined;
    const v = entry.value;
    if (isScalar(v) && typeof v.value === 'string' && (words as readonly string[]).includes(v.value)) {
      return v.value as T;
    }
    return this.fail(entry, `one of ${words.join(', ')}`);
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

export function optionalMapping(
  r: PlanReader,
  entry: Entry | undefined,
  known: readonly string[],
): Fields | undefined {
  return entry ? r.mapping(entry, known) : undefined;
}

export function checkRelayUrl(text: string): 'ok' | 'bad' | 'credentials' {
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

/** The document's root as an entry (path ''), for a reader to start from. */
export function rootEntry(src: SourceFile): Entry {
  const node = src.doc?.contents;
  return { path: '', keyNode: undefined, node, value: src.resolve(node, '') };
}

/** The entry at a key path of the document (mappings only), or undefined when it is not there. */
export function entryAt(src: SourceFile, keys: readonly string[]): Entry | undefined {
  let entry = rootEntry(src);
  for (const key of keys) {
    const map = entry.value;
    if (!isMap(map)) return undefined;
    const owner = entry.path;
    const pair = map.items.find((p) => {
      const k = src.resolve(p.key, owner);
      return isScalar(k) && String(k.value) === key;
    });
    if (pair === undefined) return undefined;
    const path = join(owner, key);
    entry = {
      path,
      keyNode: (pair.key as Node | null) ?? undefined,
      node: pair.value,
      value: pair.value === null ? undefined : src.resolve(pair.value, path),
    };
  }
  return entry;
}

/**
 * The walker over a value that came as JSON rather than from a file (an emulator request body):
 * the same checks and messages, problems naming the key path (there is no line to name).
 */
export function readJsonValue<T>(
  label: string,
  value: unknown,
  read: (r: PlanReader, root: Entry) => T | undefined,
): { ok: true; value: T } | { ok: false; problems: PlanProblem[] } {
  const src = SourceFile.fromValue(label, value);
  const out = read(new PlanReader(src), rootEntry(src));
  if (out === undefined || src.problems.length > 0) {
    const problems =
      src.problems.length > 0
        ? src.problems
        : [{ file: label, line: 1, column: 1, path: '', message: `invalid ${label}` }];
    return { ok: false, problems };
  }
  return { ok: true, value: out };
}
