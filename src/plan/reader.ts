/**
 * The shape reader (src/shape/reader.ts) as plans and scenario files use it: over the nodes of a
 * hardened SourceFile (./yaml-source.ts), so every problem is reported at the node that causes
 * it (file:line:column and what was expected), and the walk goes on, so one run lists all of
 * them. PlanReader adds the plan's own vocabulary (durations); the checks themselves, and their
 * wording, are the ones the relay's answers and the emulator's bodies are read with.
 */
import { isMap, isScalar, type Node } from 'yaml';
import { type Entry as ShapeEntry, type Fields as ShapeFields, ShapeReader } from '../shape/reader.js';
import { parseDuration } from './duration.js';
import { ENV_NAME_PATTERN } from './plan-keys.js';
import type { SourceFile, ValueNode } from './yaml-source.js';

export { looksLikeSecretKey, optionalMapping } from '../shape/reader.js';

export const SECRET_MESSAGE =
  'the API key never goes in a plan: set RELAY_API_KEY (or relay.api_key_env) or relay.api_key_file';

/** A key and its value as written in a YAML file. */
export type Entry = ShapeEntry<ValueNode>;
export type Fields = ShapeFields<ValueNode>;

export function expandHome(file: string): string {
  // node:os only for a `~/` path: loading it costs `canary validate` ≈ 0.2 ms otherwise.
  return file === '~' || file.startsWith('~/')
    ? process.getBuiltinModule('node:os').homedir() + file.slice(1)
    : file;
}

/** The shape reader with durations, over YAML nodes by default (`N` is JSON's for request bodies). */
export class PlanReader<N = ValueNode> extends ShapeReader<N> {
  duration(entry: ShapeEntry<N> | undefined, options: { positive?: boolean } = {}): number | undefined {
    if (entry === undefined) return undefined;
    const text = this.text(entry);
    const ms = text === undefined ? undefined : parseDuration(text);
    if (ms === undefined) return this.fail(entry, 'a duration like 30s, 10m or 1h30m');
    if (options.positive && ms <= 0) return this.fail(entry, 'a duration longer than 0s');
    return ms;
  }

  /**
   * The name of an environment variable that holds a secret (a key, a token, a webhook URL).
   * The value is never echoed when it is not a name: someone may have pasted the secret itself.
   */
  envName(entry: ShapeEntry<N> | undefined, expectation: string): string | undefined {
    if (entry === undefined) return undefined;
    const text = this.text(entry);
    if (text !== undefined && ENV_NAME_PATTERN.test(text)) return text;
    this.problem(entry, `${entry.path}: expected ${expectation}`);
    return undefined;
  }
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
    const path = owner === '' ? key : `${owner}.${key}`;
    entry = {
      path,
      keyNode: (pair.key as Node | null) ?? undefined,
      node: pair.value,
      value: pair.value === null ? undefined : src.resolve(pair.value, path),
    };
  }
  return entry;
}
