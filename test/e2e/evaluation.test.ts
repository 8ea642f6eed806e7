/**
 * The pre-traffic evaluation end to end: the built CLI, spawned, against an emulator serving the
 * data plane over loopback. A good canary passes and is promoted; one whose answers break the
 * prompts' expectations is stopped with exit 3 while the relay shows its weight never left 0;
 * bad input (a prompt file, a judge) ends in a clear message and exit 2, nothing moved.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../../src/emulator/index.js';
import { baseEnv, ROOT, runCli, startExampleEmulator, weights, writePlanFile } from '../helpers/index.js';

const KEY = 'e2e-eval-key-4b8e1f';
const STATE_DIR = mkdtempSync(join(tmpdir(), 'canary-e2e-eval-state-'));
const WORK = mkdtempSync(join(tmpdir(), 'canary-e2e-eval-'));
const env = (extra: Record<string, string> = {}) =>
  baseEnv({ CANARY_STATE_DIR: STATE_DIR, RELAY_API_KEY: KEY, ...extra });
const CANARY = 'claude-sonnet-4-5-v2';
const BASELINE = 'claude-sonnet-4-5-v1';

interface Event {
  type: string;
  outcome?: string;
  report?: {
    verdict: string;
    worst: { prompt_id: string; canary: string; baseline: string }[];
    canary: { ttft_p50_ms: number | null };
  };
}
const eventsOf = (stdout: string): Event[] =>
  stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Event);

/** A plan in WORK using the shipped prompt set, with `more` keys inside `evaluation:`. */
function plan(
  name: string,
  route: string,
  more: Record<string, unknown> = {},
  prompts = `${ROOT}/examples/prompts/code-review.jsonl`,
): string {
  return writePlanFile(join(WORK, `${name}.yaml`), {
    route,
    baseline: { version_tag: BASELINE, model: 'm/one' },
    canary: { version_tag: CANARY, model: 'm/two' },
    stages: [{ weight: 50, bake: '2s' }, 100],
    more: { evaluation: { prompts, concurrency: 4, timeout: '10s', ...more } },
  });
}

/** A healthy emulator of the test's own, for checks that count every call it answered. */
async function ownHealthy(onTestFinished: (fn: () => Promise<void>) => void): Promise<EmulatorHandle> {
  const emulator = await startExampleEmulator('healthy', { apiKey: KEY, rps: 2000, seed: 4 });
  onTestFinished(() => emulator.close());
  return emulator;
}

// The rollouts wait on real bakes and chat answers; each test reads calls only on an emulator no
// other test uses at the same time: they run at once.
describe('canary rollout with evaluation: (spawned)', { concurrent: true }, () => {
  let good: EmulatorHandle;
  let bad: EmulatorHandle;
  let unpinned: EmulatorHandle;
  /** bad-answers.yaml's canary too, for plans that register the versions with other models. */
  let bad2: EmulatorHandle;
  beforeAll(async () => {
    const common = { port: 0, apiKey: KEY, rps: 2000, seed: 4 };
    [good, bad, unpinned, bad2] = await Promise.all([
      startEmulator({ ...common, scenario: `${ROOT}/examples/scenarios/healthy.yaml` }),
      startEmulator({ ...common, scenario: `${ROOT}/examples/scenarios/bad-answers.yaml` }),
      startEmulator({ ...common, scenario: { data_plane: { pinning: 'ignore' } } }),
      startEmulator({ ...common, scenario: `${ROOT}/examples/scenarios/bad-answers.yaml` }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([good?.close(), bad?.close(), unpinned?.close(), bad2?.close()]);
  });

  it('a good canary passes the evaluation, then is promoted; the events carry the report', async () => {
    const result = await runCli(
      ['rollout', plan('good', 'eval-good'), '--relay-url', good.baseUrl, '--output', 'json'],
      {
        env: env(),
      },
    );
    expect(result.code, result.stderr).toBe(0);
    const events = eventsOf(result.stdout);
    const types = events.map((e) => e.type);
    expect(types.indexOf('prompt_eval_finished')).toBeLessThan(types.indexOf('weights_set'));
    const finished = events.find((e) => e.type === 'prompt_eval_finished');
    expect(finished?.report?.verdict).toBe('pass');
    expect(finished?.report?.canary.ttft_p50_ms).toBeGreaterThan(0);
    expect(events.at(-1)?.outcome).toBe('promoted');
    expect(weights(good, 'eval-good')).toEqual({ [BASELINE]: 0, [CANARY]: 100 });
    // Every data-plane request was pinned: the emulator logged them all on the one path.
    const chats = good.control.calls().filter((c) => c.path === '/v1/chat/completions');
    expect(chats).toHaveLength(16);
  });

  it('a canary whose answers break the expectations: exit 3, no traffic moved, worst prompts side by side', async () => {
    const summary = join(WORK, 'summary.md');
    writeFileSync(summary, '');
    const result = await runCli(
      ['rollout', `${ROOT}/examples/bad-answers.yaml`, '--relay-url', bad.baseUrl, '--output', 'plain'],
      {
        env: env({ GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary }),
      },
    );
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toMatch(/pre-traffic evaluation FAILED/);
    expect(result.stdout).toMatch(/worst 1: \S+ \(.*code-review\.jsonl:\d+\): canary answer/);
    expect(result.stdout).toMatch(/ {2}baseline: .*\n.* {2}canary: {3}/);
    const last =
      result.stdout
        .trimEnd()
        .split('\n')
        .filter((l) => !l.startsWith('::'))
        .at(-2) ?? '';
    expect(last).toMatch(/no traffic was moved \(baseline claude-sonnet-4-5-v1 100%\)/);
    // The relay's own word: the route was created at baseline 100 % and never changed.
    expect(weights(bad, 'code-review-bad-answers')).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(bad.control.calls().filter((c) => c.method === 'PATCH')).toEqual([]);
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('pre-traffic evaluation FAILED');
    expect(md).toContain('#### Worst prompts, side by side');
    expect(result.stdout).toContain('::error title=canary rejected before any traffic');
    // The key appears once, in GitHub's own mask command, and nowhere else.
    const shown = (result.stdout + result.stderr).replace(`::add-mask::${KEY}`, '');
    expect(shown).not.toContain(KEY);
  });

  it('--skip-evaluation moves traffic anyway and the journal says it was skipped', async () => {
    const file = plan('skip', 'eval-skip', { thresholds: { expectation_pass_rate: { min: 0.99 } } });
    const result = await runCli(
      [
        'rollout',
        file,
        '--relay-url',
        bad2.baseUrl,
        '--skip-evaluation',
        '--until-stage',
        '1',
        '--output',
        'plain',
      ],
      { env: env() },
    );
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('skipped with --skip-evaluation');
    expect(weights(bad2, 'eval-skip')[CANARY]).toBe(50);
    const journal = readdirSync(STATE_DIR).find((f) => f.startsWith('eval-skip'));
    const text = readFileSync(join(STATE_DIR, journal as string), 'utf8');
    expect(text).toContain('"type":"prompt_eval_skipped"');
    expect(text).toContain('"reason":"flag"');
  });

  it('a relay that ignores the pin: stop with a clear message, exit 5, nothing moved', async () => {
    const result = await runCli(
      ['rollout', plan('pin', 'eval-pin'), '--relay-url', unpinned.baseUrl, '--output', 'plain'],
      {
        env: env(),
      },
    );
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(result.stdout + result.stderr).toMatch(/ignores the pin/);
    expect(unpinned.control.calls().filter((c) => c.method === 'PATCH')).toEqual([]);
  });

  it('bad input: an unreadable prompt file and a malformed line end in exit 2 before the relay is called', async ({
    onTestFinished,
  }) => {
    const good = await ownHealthy(onTestFinished);
    const missing = await runCli(
      ['rollout', plan('missing', 'eval-missing', {}, join(WORK, 'nope.jsonl')), '--relay-url', good.baseUrl],
      {
        env: env(),
      },
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `${join(WORK, 'nope.jsonl')}:1:1: cannot read the prompt file: no such file`,
    );
    expect(missing.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const prompts = join(WORK, 'broken.jsonl');
    writeFileSync(
      prompts,
      '{"messages": [{"role": "user", "content": "fine"}]}\n{"messages": [{"role": "user", "content": "cut off"\n',
    );
    const before = good.control.calls().length;
    const broken = await runCli(
      ['rollout', plan('broken', 'eval-broken', {}, prompts), '--relay-url', good.baseUrl],
      { env: env() },
    );
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(
      new RegExp(`${prompts.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: not a JSON object`),
    );
    expect(good.control.calls().length).toBe(before);

    const validate = await runCli(['validate', plan('broken', 'eval-broken', {}, prompts)], { env: env() });
    expect(validate.code).toBe(2);
    expect(validate.stdout + validate.stderr).toMatch(/broken\.jsonl:2:\d+: not a JSON object/);
  });

  it('bad input: a judge that prints no number ends in exit 2 with its words, nothing moved', async ({
    onTestFinished,
  }) => {
    const good = await ownHealthy(onTestFinished);
    writeFileSync(join(WORK, 'judge.sh'), 'cat > /dev/null\necho "looks fine to me"\n');
    const result = await runCli(
      [
        'rollout',
        plan('judge', 'eval-judge', { judge: 'sh ./judge.sh' }),
        '--relay-url',
        good.baseUrl,
        '--output',
        'plain',
      ],
      { env: env() },
    );
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout + result.stderr).toMatch(
      /evaluation\.judge \(`sh \.\/judge\.sh`\) on prompt \S+ printed "looks fine to me" where a score \(a number\) was expected/,
    );
    expect(weights(good, 'eval-judge')).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
  });
});
