/**
 * 429s during the pre-traffic evaluation, end to end (the built CLI against an emulator over
 * loopback). The README's rule: a failed answer (5xx, 429, timeout) is not an error of the run;
 * it counts against `success_rate`, because it is what a user would have seen, and nothing is
 * retried. So an upstream that rate-limits the canary fails its evaluation (exit 3, no traffic
 * moved), and the relay's own 429 (no X-Relay-Version header: no version answered) is one
 * failed answer, not a pinning failure (exit 5).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../../src/emulator/index.js';
import { baseEnv, ROOT, runCli, weights, writePlanFile } from '../helpers/index.js';

const KEY = 'e2e-eval-429-key-8c3d5a';
const STATE_DIR = mkdtempSync(join(tmpdir(), 'canary-e2e-eval429-state-'));
const WORK = mkdtempSync(join(tmpdir(), 'canary-e2e-eval429-'));
const env = () => baseEnv({ CANARY_STATE_DIR: STATE_DIR, RELAY_API_KEY: KEY });
const CANARY = 'sonnet-v2-limited';
const BASELINE = 'sonnet-v1';
/** examples/prompts/code-review.jsonl holds 8 prompts: 8 answers per version. */
const PROMPTS = 8;

interface Check {
  id: string;
  status: string;
  value: number | null;
  reason: string;
}
interface Event {
  type: string;
  outcome?: string;
  cause?: string;
  report?: {
    verdict: string;
    checks: Check[];
    baseline: { success_rate: number | null };
    canary: { success_rate: number | null };
  };
}
const eventsOf = (stdout: string): Event[] =>
  stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Event);

function plan(route: string, thresholds?: Record<string, unknown>): string {
  return writePlanFile(join(WORK, `${route}.yaml`), {
    route,
    baseline: BASELINE,
    canary: CANARY,
    stages: [50, 100],
    more: {
      evaluation: {
        prompts: `${ROOT}/examples/prompts/code-review.jsonl`,
        concurrency: 2,
        timeout: '10s',
        ...(thresholds ? { thresholds } : {}),
      },
    },
  });
}

describe('429s during the evaluation (spawned)', () => {
  let limited: EmulatorHandle;
  let relayLimit: EmulatorHandle;
  beforeAll(async () => {
    const common = { port: 0, apiKey: KEY, rps: 2000, seed: 7 };
    [limited, relayLimit] = await Promise.all([
      // The canary's upstream answers half its requests 429 (with the version header: it was served).
      startEmulator({
        ...common,
        scenario: { versions: { [CANARY]: { answers: { rate_limit_rate: 0.5 } } } },
      }),
      startEmulator({ ...common, scenario: {} }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([limited?.close(), relayLimit?.close()]);
  });

  it('an upstream rate-limiting the canary fails success_rate: exit 3, no traffic moved, nothing retried', async () => {
    const result = await runCli(
      ['rollout', plan('eval-429-upstream'), '--relay-url', limited.baseUrl, '--output', 'json'],
      { env: env() },
    );
    expect(result.code, result.stdout + result.stderr).toBe(3);
    const events = eventsOf(result.stdout);
    const report = events.find((e) => e.type === 'prompt_eval_finished')?.report;
    expect(report?.verdict).toBe('fail');
    expect(report?.baseline.success_rate).toBe(1);
    expect(report?.canary.success_rate).toBeLessThan(0.95);
    const check = report?.checks.find((c) => c.id === 'success_rate.min');
    expect(check?.status).toBe('fail');
    expect(events.at(-1)).toMatchObject({ outcome: 'rejected' });
    // Each prompt went once to each version: a 429 is an answer, not something to retry.
    const chats = limited.control.calls().filter((c) => c.path === '/v1/chat/completions');
    expect(chats).toHaveLength(2 * PROMPTS);
    const limitedAnswers = chats.filter((c) => c.status === 429).length;
    expect(limitedAnswers).toBe(Math.round(PROMPTS * (1 - (report?.canary.success_rate ?? 1))));
    expect(weights(limited, 'eval-429-upstream')).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(limited.control.calls().filter((c) => c.method === 'PATCH')).toEqual([]);
  });

  it("the relay's own 429 (no version header) is one failed answer, not a pinning failure: judged by success_rate", async () => {
    // One 429 from the relay itself, before any version saw the request.
    relayLimit.control.injectFault({ mode: 'rate_limit', count: 1, path_prefix: '/v1/chat/completions' });
    const result = await runCli(
      [
        'rollout',
        plan('eval-429-relay', { success_rate: { min: 0.85 } }),
        '--relay-url',
        relayLimit.baseUrl,
        '--output',
        'json',
      ],
      { env: env() },
    );
    // 7 of 8 answered (87.5 %) meets min 0.85: the evaluation passes and the rollout goes on.
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/X-Relay-Version|pin/);
    const events = eventsOf(result.stdout);
    const report = events.find((e) => e.type === 'prompt_eval_finished')?.report;
    expect(report?.verdict).toBe('pass');
    const rates = [report?.baseline.success_rate, report?.canary.success_rate].sort();
    expect(rates).toEqual([(PROMPTS - 1) / PROMPTS, 1]);
    const chats = relayLimit.control.calls().filter((c) => c.path === '/v1/chat/completions');
    expect(chats).toHaveLength(2 * PROMPTS);
    expect(chats.filter((c) => c.fault === 'rate_limit')).toHaveLength(1);
    expect(events.at(-1)?.outcome).toBe('promoted');
  });
});
