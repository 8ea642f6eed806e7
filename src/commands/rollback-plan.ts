/**
 * `canary rollback plan.yaml`: what the plan says to roll back. Its own module because the
 * plan loader (yaml, the plan schema, the emulator's scenario checks) is most of the CLI's
 * size, and `canary rollback --route R --to TAG`, the form an incident uses, must not load it.
 */
import path from 'node:path';
import type { Io } from '../io.js';
import { loadPlan } from '../plan/load.js';
import type { PlanTarget } from './rollback.js';

export async function readRollbackPlan(file: string, io: Io): Promise<PlanTarget> {
  const plan = await loadPlan(file, { cwd: io.cwd });
  return {
    route: plan.route,
    baseline: plan.baseline.tag,
    relayUrl: plan.relay.url,
    apiKeyEnv: plan.relay.apiKeyEnv,
    apiKeyFile: plan.relay.apiKeyFile,
    deadlineMs: plan.rollback.deadlineMs,
    baseDir: path.dirname(plan.file),
    // Only a plan with webhooks loads the notifier (and undici with it).
    announce:
      plan.notify && plan.notify.length > 0
        ? (await import('./rollback-notify.js')).prepareAnnouncer(plan, io)
        : undefined,
  };
}
