/**
 * How a rollout says where traffic is and why it ended, in the words its events, summaries
 * and errors share: `baseline v1 100%`, `canary 25% / baseline 75%`, `stage 2/4`.
 */

import { verdictReason } from '../analysis/evaluate.js';
import type { Evaluation } from '../analysis/types.js';
import { customReason } from '../custom-metrics/judge.js';
import type { Plan } from '../domain/plan.js';
import type { RouteRule } from '../domain/relay.js';
import { formatRules, formatWeight, weightOf } from '../format.js';

/** Two weights this close are the same weight (the relay may round). */
export const WEIGHT_TOLERANCE = 0.001;

export function stageLabel(index: number, stageCount: number): string {
  return `stage ${index + 1}/${stageCount}`;
}

/** Where traffic is, in words: `baseline v1 100%`, `canary 25% / baseline 75%`. */
export function describeTraffic(plan: Plan, rules: RouteRule[] | null): string {
  if (rules === null) return 'traffic state unknown';
  const b = plan.baseline.tag;
  const c = plan.canary.tag;
  const others = rules.filter((r) => r.version_tag !== b && r.version_tag !== c && r.weight > 0);
  const bw = weightOf(rules, b);
  const cw = weightOf(rules, c);
  let text: string;
  if (others.length === 0 && Math.abs(bw - 100) <= WEIGHT_TOLERANCE) text = `baseline ${b} 100%`;
  else if (others.length === 0 && Math.abs(cw - 100) <= WEIGHT_TOLERANCE) text = `canary ${c} 100%`;
  else text = `canary ${formatWeight(cw)} / baseline ${formatWeight(bw)}`;
  if (others.length > 0) text += `, ${formatRules(others)}`;
  return text;
}

/** The plan as a suggested command names it, quoted for a shell when it has to be. */
export function planRef(plan: Plan, ref = plan.file): string {
  return /^[\w./@:+-]+$/.test(ref) ? ref : `'${ref.replace(/'/g, `'\\''`)}'`;
}

/** Why an evaluation came out as it did, the built-in checks' reasons and then the custom ones'. */
export function reasonOf(evaluation: Evaluation): string {
  const custom = customReason(evaluation);
  const builtIn = verdictReason(evaluation);
  if (!custom) return builtIn;
  const ownDeciding = evaluation.checks.some((c) => c.status === evaluation.verdict);
  return ownDeciding ? `${builtIn}; ${custom}` : custom;
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
