/**
 * `canary rollout --wait-at-gates`: with no terminal to ask, a `pause: true` gate holds until
 * another shell answers it through the control channel. The answer never comes through this
 * function: the engine takes `canary promote` (which approves a pending gate) and `canary abort`
 * (which rolls back) from its operator queue, and withdraws the gate; this only says what to run
 * and waits to be withdrawn. Analysis keeps running meanwhile, and a failing check still rolls
 * back; `--timeout` bounds the wait.
 */
import { formatWeight } from '../format.js';
import type { GateContext, GateDecision } from '../rollout/engine.js';

export function waitForPromote(route: string, say: (text: string) => void) {
  return (ctx: GateContext): Promise<GateDecision> => {
    say(
      `stage ${ctx.stage + 1}/${ctx.stageCount} (canary ${formatWeight(ctx.weight)}) passed its bake and holds at its manual gate: run \`canary promote --route ${route}\` to go on, or \`canary abort --route ${route} -m "why"\` to roll back.`,
    );
    return new Promise<GateDecision>((_, reject) => {
      const withdrawn = () => reject(new Error('the gate was answered or withdrawn'));
      if (ctx.signal.aborted) withdrawn();
      else ctx.signal.addEventListener('abort', withdrawn, { once: true });
    });
  };
}
