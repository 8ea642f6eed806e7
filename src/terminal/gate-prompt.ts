/**
 * The question a `pause: true` stage asks once its bake has passed. It shows the values the
 * decision rests on; analysis keeps running underneath, and the engine withdraws the question
 * (aborting `signal`) if a check fails meanwhile.
 */
import type { ChalkInstance } from 'chalk';
import { formatCount, formatWeight } from '../format.js';
import type { Prompter } from '../io.js';
import { describeCheck } from '../reporters/check-text.js';
import { boundsFromChecks, renderVersionTable } from '../reporters/table.js';
import type { GateContext } from '../rollout/engine.js';
import { promptEnd } from './prompt-errors.js';

/** `keep holding` is the terminal's own answer: the stage stays, the live view returns, keys decide later. */
export type GateAnswer = 'promote' | 'rollback' | 'keep_holding' | 'ctrl_c' | 'withdrawn';

export interface GatePromptContext {
  gate: GateContext;
  baseline: string;
  canary: string;
  prompter: Prompter;
  chalk: ChalkInstance;
  width: number;
}

/** The verdicts and values the gate shows, as plain lines (exported for tests). */
export function gateSummary(ctx: Omit<GatePromptContext, 'prompter'>): string {
  const { gate, chalk } = ctx;
  const e = gate.evaluation;
  const table = renderVersionTable(
    [
      {
        tag: ctx.baseline,
        role: 'baseline',
        weight: 100 - gate.weight,
        metrics: e.baseline,
        bounds: boundsFromChecks(e.checks, ['threshold']),
      },
      {
        tag: ctx.canary,
        role: 'canary',
        weight: gate.weight,
        metrics: e.canary,
        bounds: boundsFromChecks(e.checks),
        minRequests: e.minRequests,
      },
    ],
    { chalk, width: ctx.width },
  );
  const checks = e.checks.map(
    (c) => `  ${c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : '?'} ${describeCheck(c)}`,
  );
  const requests = e.canaryRequests == null ? 'unknown' : formatCount(e.canaryRequests);
  return [
    `Stage ${gate.stage + 1}/${gate.stageCount} (canary ${formatWeight(gate.weight)}) passed its bake: checks ${e.verdict}, ${requests} canary requests in the window.`,
    table,
    ...checks,
  ].join('\n');
}

export async function askGate(ctx: GatePromptContext): Promise<GateAnswer> {
  const next =
    ctx.gate.stage + 1 < ctx.gate.stageCount
      ? `stage ${ctx.gate.stage + 2}/${ctx.gate.stageCount}`
      : 'the end';
  try {
    return await ctx.prompter.select<GateAnswer>(
      {
        message: `${gateSummary(ctx)}\nManual gate: what next?`,
        choices: [
          { name: `promote to ${next}`, value: 'promote' },
          { name: 'roll back to the baseline', value: 'rollback' },
          {
            name: 'keep holding',
            value: 'keep_holding',
            description: 'stay at this stage with checks running; press p to promote or r to roll back later',
          },
        ],
      },
      { signal: ctx.gate.signal },
    );
  } catch (error) {
    const end = promptEnd(error);
    if (end === 'ctrl_c') return 'ctrl_c';
    if (end === 'aborted') return 'withdrawn';
    throw error;
  }
}
