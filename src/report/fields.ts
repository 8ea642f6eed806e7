/**
 * Reading records written by any version of canary: untyped JSON, keys in either spelling.
 * Journals 1–3 and event streams of version 1 have the engine's camelCase (`bakeMs`); records
 * from version 4 on are snake_case (`bake_ms`, src/output/record.ts); `pick` accepts both, so a
 * report reads either.
 */
export type Raw = Record<string, unknown>;

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The first of `keys` (each tried as written, in snake_case and in camelCase) present on `o`. */
export function pick(o: Raw, ...keys: string[]): unknown {
  for (const key of keys) {
    for (const k of [key, snake(key), camel(key)]) if (k in o) return o[k];
  }
  return undefined;
}

export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const obj = (v: unknown): Raw =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {};
