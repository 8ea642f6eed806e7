/**
 * The starter plan `canary init` writes, as commented YAML: every key a newcomer needs, with a
 * line saying what it does, and the judgement defaults users actually get. Pure text from the
 * answers; the command checks it with the real plan loader before writing it.
 */
import { stringify } from 'yaml';
import { SCHEMA_MODELINE } from '../plan/schema-url.js';
import type { Answers } from './init-answers.js';

function scalar(value: string): string {
  return stringify(value).trimEnd();
}

/** The plan as commented YAML. */
export function renderPlan(a: Answers): string {
  const versions = (role: 'baseline' | 'canary', tag: string, note: string) => {
    const lines = [`${role}: # ${note}`, `  version_tag: ${scalar(tag)}`];
    if (a.model) lines.push(`  model: ${scalar(a.model)} # canary registers the version if it is missing`);
    else
      lines.push(
        '  # model: provider/model-id  # add one (and parameters) to let canary register the version',
      );
    return lines.join('\n');
  };
  const emulator = a.relayUrl === 'emulator';
  return `${SCHEMA_MODELINE}
# Canary rollout plan, written by \`canary init\`. The line above lets editors check it as you type.
#
#   canary validate ${'<this file>'}
#   canary rollout <this file> --dry-run   # print the schedule, change nothing
#   canary rollout <this file>
#
# Durations: 30s, 10m, 1h30m. Weights are percentages. While it runs: p promote, h hold,
# r roll back, q quit, Ctrl-C for a menu.

relay:
  url: ${scalar(a.relayUrl)} # ${emulator ? 'the built-in emulator; put your relay’s base URL (https://…/v1) here for real traffic' : 'the relay’s base URL'}
  api_key_env: RELAY_API_KEY # env var holding the key; never put the key in this file

route: ${scalar(a.route)} # the model alias clients call

${versions('baseline', a.baseline, 'the version serving now')}

${versions('canary', a.canary, 'the version being rolled out')}

stages: [${a.weights.join(', ')}] # canary weight per stage, the last 100 (no bake); a failed check rolls back at once
# For a manual gate before a stage is left: - { weight: 50, bake: 1h, pause: true }
bake: ${scalar(a.bake)} # how long each stage holds its weight while the checks run

analysis:
  interval: 30s # how often the canary is checked
  window: 30s # each check reads metrics over the trailing window; equal to interval, so the
  #            paired latency and cost tests see one new window per check
  min_requests: ${a.limits.minRequests} # canary requests pooled over the stage before it can pass
  failure_limit: 1 # failed checks in a stage that trigger the rollback (each is already beyond noise)
  hold_deadline: 30m # both versions over a limit (a shared incident) holds the stage, bake paused, this long at most
  thresholds: # absolute limits on the canary; when the baseline breaches one too, the stage holds instead
    error_rate: { max: ${a.limits.maxErrorRate} } # a fraction: 0.02 = 2 %
    latency_p99_ms: { max: ${a.limits.maxP99Ms} }
  baseline_comparison: # limits relative to the baseline, judged on the whole stage so far
    # Fail only when the canary is worse beyond the margin AND beyond the noise. confidence is per
    # rollout: a canary within these margins is rolled back for health in at most 1 % of rollouts,
    # however often it is checked; too little data is "no data", never a pass.
    # These margins were chosen on the judgement suite (docs/judgement.md).
    significance: { enabled: true, confidence: 0.99 }
    error_rate: { max_ratio: ${a.limits.maxErrorRatio}, floor: ${a.limits.errorFloor} } # canary / baseline, at least baseline + floor
    latency_p50_ms: { max_ratio: ${a.limits.maxP50Ratio} }
    latency_p99_ms: { max_ratio: ${a.limits.maxP99Ratio} }
    cost_per_token: { max_ratio: ${a.limits.maxCostRatio} }

rollback:
  deadline: 2m # how long to keep retrying a rollback before giving up (exit 4)
`;
}
