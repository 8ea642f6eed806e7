/**
 * The plan as run, for the journal's `rollout_started` record and the report: the normalised
 * plan with snake_case keys (durations in ms, `_ms` suffix), and nothing secret. The API key is
 * never in a plan; what can be is a webhook URL (a Slack hook is a credential) and user:password
 * in a URL, so both are replaced here rather than trusted to a later redaction.
 */
import type { Plan } from '../domain/plan.js';

export const SECRET_PLACEHOLDER = '(secret: not recorded)';

/** Keys whose values are user content (model parameters, metadata, inline scenarios): copied as written. */
const VERBATIM = new Set(['parameters', 'metadata', 'scenario', 'queries']);

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A URL without its user:password part. */
export function withoutCredentials(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1');
}

function copy(value: unknown, verbatim: boolean): unknown {
  if (typeof value === 'string') return withoutCredentials(value);
  if (Array.isArray(value)) return value.map((v) => copy(v, verbatim));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[verbatim ? key : snake(key)] = copy(v, verbatim || VERBATIM.has(key));
    }
    return out;
  }
  return value;
}

export type PlanRecord = Record<string, unknown>;

export function planRecord(plan: Plan): PlanRecord {
  const record = copy(plan, false) as PlanRecord;
  const notify = record.notify;
  if (Array.isArray(notify)) {
    for (const target of notify as Record<string, unknown>[]) {
      if (target.url !== undefined) target.url = SECRET_PLACEHOLDER;
    }
  }
  return record;
}
