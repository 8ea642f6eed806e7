/**
 * What the engine cannot know and a post-mortem needs: the plan as run (secrets replaced) and
 * who started the run where. Added to the `rollout_started` event on its way to the journal and
 * the reporters, so the journal, `--output-file` and `--report` all carry it (journal v2).
 */
import { hostname } from 'node:os';
import ci from 'ci-info';
import type { Plan } from '../domain/plan.js';
import { planRecord } from '../plan/record.js';
import type { RolloutEvent, RunBy } from '../rollout/events.js';
import { loginName } from './login.js';

const GITHUB_VARS: Record<string, string> = {
  actor: 'GITHUB_ACTOR',
  repository: 'GITHUB_REPOSITORY',
  workflow: 'GITHUB_WORKFLOW',
  run_id: 'GITHUB_RUN_ID',
  ref: 'GITHUB_REF',
  sha: 'GITHUB_SHA',
};

export function runBy(env: Record<string, string | undefined>): RunBy {
  const github: Record<string, string> = {};
  if (env.GITHUB_ACTIONS === 'true') {
    for (const [key, name] of Object.entries(GITHUB_VARS)) {
      const value = env[name];
      if (value) github[key] = value;
    }
  }
  const isCi = env.CI !== undefined && env.CI !== 'false' && env.CI !== '0';
  return {
    user: loginName(env) ?? null,
    host: hostname(),
    pid: process.pid,
    ci: ci.name ?? (env.GITHUB_ACTIONS === 'true' ? 'GitHub Actions' : isCi ? 'CI' : null),
    ...(Object.keys(github).length > 0 ? { github } : {}),
  };
}

/** The event with `plan` and `run_by` added when it is `rollout_started`; any other event as it is. */
export function withRunContext(
  event: RolloutEvent,
  plan: Plan,
  env: Record<string, string | undefined>,
): RolloutEvent {
  if (event.type !== 'rollout_started' || event.plan !== undefined) return event;
  return { ...event, plan: planRecord(plan), run_by: runBy(env) };
}
