/**
 * `canary rollback plan.yaml [-m WHY]`: tells the plan's `notify:` webhooks, as a rollout
 * would. A confirmed rollback is a `rolled_back` notice, one that failed a `failed` notice; both
 * carry the reason (`-m`) and who ran it, in the text and (json format) as `reason` and `by`.
 * Loaded only with a plan that has `notify:` (through src/commands/rollback-plan.ts), so the
 * incident form `canary rollback --route R --to TAG`, which has no plan and so no webhooks,
 * never loads it or undici.
 */

import { cutBySignals, type DrainStopSignal } from '../cut-by-signals.js';
import type { Plan } from '../domain/plan.js';
import type { Io } from '../io.js';
import { runBy } from '../journal/run-context.js';
import { cutText, type DrainResult, type Notice, Notifier, resolveTargets } from '../notify/webhook.js';
import type { RollbackAnnouncement } from './rollback-announce.js';
import { SIGNAL_WORDS } from './rollout-stops.js';

/** As a rollout's exit: what is still in flight after this long is given up, saying so. */
const DRAIN_MS = 3_000;

type NotifyPlan = Pick<Plan, 'route' | 'baseline' | 'canary' | 'stages' | 'notify'>;

/** Who ran the rollback, as the notices name it: `ana@box`, plus the GitHub actor in Actions. */
export function rolledBackBy(env: Record<string, string | undefined>): string {
  const who = runBy(env);
  const actor = who.github?.actor ? ` (GitHub @${who.github.actor})` : '';
  return `${who.user ?? 'someone'}@${who.host}${actor}`;
}

export function rollbackNotice(plan: NotifyPlan, a: RollbackAnnouncement, by: string): Notice {
  const why = a.reason ? `: ${a.reason}` : ' (no reason given)';
  const base = {
    route: a.route,
    baseline: plan.baseline.tag,
    canary: plan.canary.tag,
    stageCount: plan.stages.length,
    at: a.at,
    reason: a.reason,
    by,
  };
  if (a.failure) {
    return {
      ...base,
      event: 'failed',
      outcome: 'rollback_failed',
      summary: `manual rollback to ${a.to} by ${by} FAILED${why}\n${a.failure.message}`,
      next: a.failure.hint,
    };
  }
  return {
    ...base,
    event: 'rolled_back',
    outcome: 'rolled_back',
    summary: `manual rollback to ${a.to} by ${by}${why}\n${a.traffic ?? ''}`.trim(),
  };
}

/**
 * Reads the targets now, before anything is printed (their URLs become secrets; unset env vars
 * are warned about), and returns what sends the notice once the rollback is done. Undefined
 * when no target is usable.
 */
export function prepareAnnouncer(
  plan: NotifyPlan,
  io: Io,
): ((a: RollbackAnnouncement) => Promise<void>) | undefined {
  const targets = resolveTargets(plan.notify, io);
  if (targets.length === 0) return undefined;
  return async (a) => {
    const notifier = new Notifier(targets, plan, io);
    notifier.announce(rollbackNotice(plan, a, rolledBackBy(io.env)));
    // The rollback is done and said: a signal now only cuts the wait for the webhooks short.
    const cut = cutBySignals();
    try {
      const drained = await notifier.drain(DRAIN_MS, cut.signal);
      const name = cut.received();
      if (name) io.stderr.write(`${cutShortLine(name, drained)}\n`);
    } finally {
      cut.stop({ processExitsNext: io.exitsWhenDone === true });
    }
  };
}

/** `terminated (SIGTERM) after the rollback: webhook delivery cut short, 1 webhook notice not delivered; …`. */
export function cutShortLine(name: DrainStopSignal, drained: DrainResult): string {
  return `${SIGNAL_WORDS[name]} after the rollback: ${cutText(drained)}; the rollback's outcome and exit code stand`;
}
