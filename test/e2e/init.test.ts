/**
 * `canary init`, spawned: unattended with flags, refusing what it cannot do (exit 2, nothing
 * written), and answered through a real pseudo-terminal. Every file it writes must pass
 * `canary validate`, the same loader a rollout uses.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS, STAGE_PRESETS } from '../../src/plan/presets.js';
import { baseEnv, runCli } from '../helpers/index.js';
import { KEY, spawnPty } from '../helpers/pty.js';

vi.setConfig({ testTimeout: 120_000 });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'canary-init-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function validate(file: string): Promise<void> {
  const result = await runCli(['validate', file], { cwd: dir });
  expect(result.code, result.stdout + result.stderr).toBe(0);
}

describe('canary init with flags', () => {
  it('--yes with route and versions writes a plan that validates, with the standard preset and default limits', async () => {
    const result = await runCli(
      ['init', '--route', 'code-review', '--baseline', 'model-v1', '--canary', 'model-v2', '--yes'],
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('wrote canary.yaml');
    const text = readFileSync(join(dir, 'canary.yaml'), 'utf8');
    expect(text).toContain('route: code-review');
    expect(text).toContain('version_tag: model-v1');
    expect(text).toContain('version_tag: model-v2');
    expect(text).toContain(`stages: [${STAGE_PRESETS[0]?.weights.join(', ')}]`);
    expect(text).toContain(`error_rate: { max: ${DEFAULT_LIMITS.maxErrorRate} }`);
    expect(text).toMatch(/^# /m); // commented for the person who edits it next
    await validate('canary.yaml');
  });

  it('every question has a flag: custom stages, bake, model, relay and limits', async () => {
    const result = await runCli(
      [
        'init',
        'plans/my-plan.yaml',
        '--route=r.1',
        '--baseline=a-1',
        '--canary=b-2',
        '--model=anthropic/claude-sonnet-4-20250514',
        '--relay-url=https://relay.example.com/v1',
        '--stages=2,20,100',
        '--bake=45m',
        '--max-error-rate=0.05',
        '--max-p99-ms=4000',
        '--max-error-ratio=1.5',
        '--max-p99-ratio=1.5',
        '--min-requests=50',
        '--yes',
      ],
      { cwd: dir },
    );
    // The folder does not exist: init says so rather than crash.
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot write plans\/my-plan\.yaml/);

    const ok = await runCli(
      [
        'init',
        'my-plan.yaml',
        '--route=r.1',
        '--baseline=a-1',
        '--canary=b-2',
        '--model=anthropic/claude-sonnet-4-20250514',
        '--relay-url=https://relay.example.com/v1',
        '--stages=2,20,100',
        '--bake=45m',
        '--max-error-rate=0.05',
        '--max-p99-ms=4000',
        '--max-error-ratio=1.5',
        '--max-p99-ratio=1.5',
        '--min-requests=50',
        '--yes',
      ],
      { cwd: dir },
    );
    expect(ok.code, ok.stderr).toBe(0);
    const text = readFileSync(join(dir, 'my-plan.yaml'), 'utf8');
    for (const expected of [
      'url: https://relay.example.com/v1',
      'model: anthropic/claude-sonnet-4-20250514',
      'stages: [2, 20, 100]',
      'bake: 45m',
      'error_rate: { max: 0.05 }',
      'latency_p99_ms: { max: 4000 }',
      'error_rate: { max_ratio: 1.5, floor: 0.002 }',
      'latency_p50_ms: { max_ratio: 1.2 }',
      'latency_p99_ms: { max_ratio: 1.5 }',
      'cost_per_token: { max_ratio: 1.1 }',
      'min_requests: 50',
      // The judgement suite's defaults: the significance test on (per rollout), windows equal to the interval.
      'significance: { enabled: true, confidence: 0.99 }',
      'interval: 30s',
      'window: 30s',
    ]) {
      expect(text).toContain(expected);
    }
    await validate('my-plan.yaml');
  });

  it('every default (relay emulator, no model) writes a plan that runs: the versions get registered', async () => {
    const init = await runCli(['init', '--route', 'r', '--baseline', 'a', '--canary', 'b', '--yes'], {
      cwd: dir,
    });
    expect(init.code, init.stderr).toBe(0);
    expect(readFileSync(join(dir, 'canary.yaml'), 'utf8')).toMatch(/^ {2}model: \S+/m);
    // The standard preset bakes 10 min: stop after pre-flight and the first weights with --timeout.
    const run = await runCli(['rollout', 'canary.yaml', '--output', 'plain', '--timeout', '4s'], {
      cwd: dir,
    });
    expect(run.stdout + run.stderr).not.toContain('not registered');
    expect(run.stdout).toContain('registered baseline a');
    expect(run.stdout).toContain('registered canary b');
    expect(run.code, run.stdout + run.stderr).toBe(5); // the timeout, after stage 1 began
    expect(run.stdout).toMatch(/\[stage 1\/4\]/);
  });

  it('a preset by name: careful is 1 → 5 → 25 → 50 → 100 with 30 min bakes', async () => {
    const result = await runCli(
      ['init', '--route', 'r', '--baseline', 'a', '--canary', 'b', '--stages', 'careful', '--yes'],
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    const text = readFileSync(join(dir, 'canary.yaml'), 'utf8');
    expect(text).toContain('stages: [1, 5, 25, 50, 100]');
    expect(text).toContain('bake: 30m');
    await validate('canary.yaml');
  });

  it('without a terminal and without enough flags: exit 2 naming the missing flags, nothing written', async () => {
    const result = await runCli(['init', '--route', 'r'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('missing --baseline, --canary');
    expect(existsSync(join(dir, 'canary.yaml'))).toBe(false);
  });

  it('bad flag values: exit 2 with the flag named, nothing written', async () => {
    for (const [flag, value] of [
      ['--stages', '5,3,100'],
      ['--baseline', 'Not_A_Tag'],
      ['--bake', 'soon'],
      ['--max-error-rate', '2'],
    ] as const) {
      const args = ['init', '--route', 'r', '--baseline', 'a', '--canary', 'b', '--yes', flag, value];
      const result = await runCli(args, { cwd: dir });
      expect(result.code, `${flag} ${value}`).toBe(2);
      expect(result.stderr).toContain(flag);
    }
    expect(existsSync(join(dir, 'canary.yaml'))).toBe(false);
  });

  it('refuses to overwrite an existing file without --force; --force replaces it', async () => {
    writeFileSync(join(dir, 'canary.yaml'), 'mine\n');
    const args = ['init', '--route', 'r', '--baseline', 'a', '--canary', 'b', '--yes'];
    const refused = await runCli(args, { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('canary.yaml already exists');
    expect(readFileSync(join(dir, 'canary.yaml'), 'utf8')).toBe('mine\n');
    const forced = await runCli([...args, '--force'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    await validate('canary.yaml');
  });
});

describe('canary init in a terminal', () => {
  it('asks each question; the answers make a plan that validates', async () => {
    const r = spawnPty(['init', 'asked.yaml'], { cwd: dir, env: baseEnv({ TERM: 'xterm-256color' }) });
    try {
      await r.waitFor('Route');
      r.write(`chat-prod${KEY.enter}`);
      await r.waitFor('Baseline version tag');
      r.write(`chat-v1${KEY.enter}`);
      await r.waitFor('Canary version tag');
      r.write(`chat-v1${KEY.enter}`); // same as the baseline: refused, asked again
      await r.waitFor('the canary must differ from the baseline');
      r.write(`${'\b'.repeat(7)}chat-v2${KEY.enter}`);
      await r.waitFor('Relay base URL');
      r.write(KEY.enter); // default: emulator
      await r.waitFor('Model for both versions');
      r.write(`anthropic/claude-sonnet-4-20250514${KEY.enter}`);
      await r.waitFor('Stages');
      await r.waitFor('1 → 5 → 25 → 50 → 100, 30 min bakes');
      r.write(KEY.down);
      r.write(KEY.enter);
      await r.waitFor('Keep these?');
      r.write(`n${KEY.enter}`);
      await r.waitFor('Highest canary error rate');
      r.write(`\b\b\b\b0.04${KEY.enter}`);
      for (const question of [
        'p99 latency',
        'error rate may be, as a multiple',
        'above the baseline’s',
        'p50 may be',
        'p99 may be',
        'cost per token may be',
        'requests a stage needs',
      ]) {
        await r.waitFor(question);
        r.write(KEY.enter);
      }
      const exit = await r.exited;
      expect(exit.code, r.screen()).toBe(0);
    } finally {
      r.kill();
    }
    const text = readFileSync(join(dir, 'asked.yaml'), 'utf8');
    expect(text).toContain('route: chat-prod');
    expect(text).toContain('version_tag: chat-v2');
    expect(text).toContain('url: emulator');
    expect(text).toContain('stages: [1, 5, 25, 50, 100]');
    expect(text).toContain('bake: 30m');
    expect(text).toContain('error_rate: { max: 0.04 }');
    await validate('asked.yaml');
  });

  it('custom stages through the terminal', async () => {
    const r = spawnPty(
      [
        'init',
        '--route',
        'r',
        '--baseline',
        'a',
        '--canary',
        'b',
        '--relay-url',
        'emulator',
        '--model',
        'm/x',
      ],
      {
        cwd: dir,
        env: baseEnv({ TERM: 'xterm-256color' }),
      },
    );
    try {
      await r.waitFor('Stages');
      r.write(KEY.up); // custom is last; up wraps to it
      r.write(KEY.enter);
      await r.waitFor('Canary weights');
      r.write(`${'\b'.repeat(12)}3, 30, 100${KEY.enter}`);
      await r.waitFor('Bake per stage');
      r.write(`${'\b'.repeat(4)}20m${KEY.enter}`);
      await r.waitFor('Keep these?');
      r.write(KEY.enter);
      expect((await r.exited).code, r.screen()).toBe(0);
    } finally {
      r.kill();
    }
    const text = readFileSync(join(dir, 'canary.yaml'), 'utf8');
    expect(text).toContain('stages: [3, 30, 100]');
    expect(text).toContain('bake: 20m');
    await validate('canary.yaml');
  });

  it('a terminal in CI asks nothing: exit 2 naming the missing flags, never a hanging prompt', async () => {
    const r = spawnPty(['init'], { cwd: dir, env: baseEnv({ TERM: 'xterm-256color', CI: 'true' }) });
    const exit = await r.exited;
    expect(exit.code).toBe(2);
    expect(r.screen()).toContain('missing --route, --baseline, --canary');
  });
});
