import type { JsonValue, RouteRule, StoredVersion, VersionSpec } from '../domain/relay.js';
import { weightOf } from '../format.js';

/** One field where the relay's stored version differs from the plan. */
export interface VersionDifference {
  /** Dotted path, e.g. `parameters.temperature`. */
  path: string;
  relay: unknown;
  plan: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function collect(path: string, relay: unknown, plan: unknown, out: VersionDifference[]): void {
  if (isPlainObject(relay) && isPlainObject(plan)) {
    const keys = new Set([...Object.keys(relay), ...Object.keys(plan)]);
    for (const key of [...keys].sort()) collect(`${path}.${key}`, relay[key], plan[key], out);
    return;
  }
  if (Array.isArray(relay) && Array.isArray(plan)) {
    if (relay.length === plan.length) {
      relay.forEach((item, i) => {
        collect(`${path}[${i}]`, item, plan[i], out);
      });
      return;
    }
  }
  if (relay === plan) return;
  out.push({ path, relay, plan });
}

/**
 * Compares a stored version with the spec the plan would register. Only fields the plan
 * sets count (a relay may add defaults of its own); within `parameters` and `metadata` the
 * comparison is deep, so a key the relay has and the plan lacks is a difference.
 */
export function diffVersion(
  spec: VersionSpec,
  existing: StoredVersion | Record<string, unknown>,
): VersionDifference[] {
  const out: VersionDifference[] = [];
  const stored = existing as Record<string, unknown>;
  for (const [key, value] of Object.entries(spec) as [string, JsonValue | undefined][]) {
    if (value === undefined) continue;
    collect(key, stored[key], value, out);
  }
  return out;
}

function show(value: unknown): string {
  if (value === undefined) return 'not set';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function describeDifferences(diffs: VersionDifference[]): string {
  return diffs.map((d) => `${d.path} (relay ${show(d.relay)}, plan ${show(d.plan)})`).join(', ');
}

/** Same tags with the same weights, in any order; weights within the contract's 0.001. */
export function sameRules(a: readonly RouteRule[], b: readonly RouteRule[]): boolean {
  if (a.length !== b.length) return false;
  const weights = new Map(a.map((r) => [r.version_tag, r.weight]));
  return b.every((r) => {
    const w = weights.get(r.version_tag);
    return w !== undefined && Math.abs(w - r.weight) <= 0.001;
  });
}

/**
 * Same weight for every tag, a missing tag counting as 0 (unlike sameRules, a tag at 0 may be
 * named or not); weights within the contract's 0.001.
 */
export function sameWeights(a: readonly RouteRule[], b: readonly RouteRule[]): boolean {
  const tags = new Set([...a, ...b].map((r) => r.version_tag));
  for (const tag of tags) if (Math.abs(weightOf(a, tag) - weightOf(b, tag)) > 0.001) return false;
  return true;
}
