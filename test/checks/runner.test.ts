/**
 * The stage-check runner against real shell scripts in a temp folder: exit codes, output tails,
 * the environment it passes (CANARY_*, never the key), and timeouts that kill the whole group.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CheckRunnerOptions, createCheckRunner, tail } from '../../src/checks/runner.js';
import { until } from '../helpers/index.js';

const KEY = 'runner-secret-key-5f2e8a';

function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function options(dir: string, extra: Partial<CheckRunnerOptions> = {}): CheckRunnerOptions {
  return {
    cwd: dir,
    env: { PATH: process.env.PATH, RELAY_API_KEY: KEY, COPY_OF_KEY: `Bearer ${KEY}`, HARMLESS: 'yes' },
    route: 'code-review',
    baselineTag: 'claude-v1',
    canaryTag: 'claude-v2',
    withhold: ['RELAY_API_KEY'],
    redact: (text) => text.split(KEY).join('[REDACTED]'),
    killGraceMs: 200,
    ...extra,
  };
}

const ctx = (checks: { name: string; run: string; timeoutMs: number }[], signal?: AbortSignal) => ({
  stage: 1,
  stageCount: 4,
  weight: 25,
  checks,
  signal,
});

/** Dead, or a zombie (killed, waiting for a reaper that a container's init may never be). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') === true;
  } catch {
    return true;
  }
}

/** Signals are delivered asynchronously: wait for the process to act on one (capped, not timed). */
async function eventuallyGone(pid: number): Promise<boolean> {
  return until(`process ${pid} to end`, () => gone(pid)).catch(() => false);
}

describe('stage check runner', () => {
  it('passes on exit 0 with the rollout in CANARY_* and no secret in the environment', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-runner-'));
    script(dir, 'smoke.sh', 'env | sort > env.txt\necho "smoke ok"');
    const run = createCheckRunner(options(dir));
    const [result] = await run(ctx([{ name: 'smoke', run: './smoke.sh', timeoutMs: 10_000 }]));
    expect(result).toMatchObject({
      name: 'smoke',
      status: 'pass',
      exitCode: 0,
      timedOut: false,
      output: 'smoke ok',
    });
    const env = readFileSync(path.join(dir, 'env.txt'), 'utf8');
    expect(env).toContain('CANARY_ROUTE=code-review\n');
    expect(env).toContain('CANARY_STAGE=2\n'); // 1-based for people and scripts
    expect(env).toContain('CANARY_WEIGHT=25\n');
    expect(env).toContain('CANARY_CANARY_TAG=claude-v2\n');
    expect(env).toContain('CANARY_BASELINE_TAG=claude-v1\n');
    expect(env).toContain('HARMLESS=yes\n');
    expect(env).not.toContain(KEY);
    expect(env).not.toContain('COPY_OF_KEY');
  });

  it('fails on a non-zero exit with the tail of stdout and stderr, redacted, and stops at the first failure', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-runner-'));
    script(dir, 'eval.sh', `for i in $(seq 1 40); do echo "line $i"; done\necho "leaked ${KEY}" >&2\nexit 4`);
    script(dir, 'never.sh', 'touch ran.txt');
    const run = createCheckRunner(options(dir));
    const results = await run(
      ctx([
        { name: 'eval', run: './eval.sh', timeoutMs: 10_000 },
        { name: 'never', run: './never.sh', timeoutMs: 10_000 },
      ]),
    );
    expect(results).toHaveLength(1);
    const [result] = results;
    expect(result).toMatchObject({ status: 'fail', exitCode: 4, timedOut: false });
    const lines = result?.output.split('\n') ?? [];
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe('line 22');
    expect(lines.at(-1)).toBe('leaked [REDACTED]');
    expect(existsSync(path.join(dir, 'ran.txt'))).toBe(false);
  });

  it('a timeout kills the whole process group, children included, and fails the check', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-runner-'));
    script(dir, 'hang.sh', 'sleep 60 &\necho $! > child.pid\necho started\nwait');
    const run = createCheckRunner(options(dir));
    const [result] = await run(ctx([{ name: 'hang', run: './hang.sh', timeoutMs: 500 }]));
    expect(result).toMatchObject({ status: 'fail', exitCode: null, timedOut: true });
    expect(result?.output).toContain('started');
    expect(result?.output).toContain('timed out');
    const child = Number(readFileSync(path.join(dir, 'child.pid'), 'utf8'));
    expect(await eventuallyGone(child)).toBe(true);
  });

  it('an abort (interrupt, --timeout) kills the running check', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-runner-'));
    script(dir, 'slow.sh', 'echo $$ > self.pid\nsleep 60');
    const controller = new AbortController();
    const pending = createCheckRunner(options(dir))(
      ctx([{ name: 'slow', run: './slow.sh', timeoutMs: 60_000 }], controller.signal),
    );
    await until('the check to start', () => existsSync(path.join(dir, 'self.pid')));
    controller.abort();
    const [result] = await pending;
    expect(result?.status).toBe('fail');
    expect(await eventuallyGone(Number(readFileSync(path.join(dir, 'self.pid'), 'utf8')))).toBe(true);
  });

  it('a command that does not exist fails with the shell saying so', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-runner-'));
    const [result] = await createCheckRunner(options(dir))(
      ctx([{ name: 'missing', run: './nope.sh', timeoutMs: 5_000 }]),
    );
    expect(result?.status).toBe('fail');
    expect(result?.exitCode).toBe(127);
    expect(result?.output).toMatch(/nope\.sh/);
  });

  it('tail keeps the last 20 lines and at most 4000 characters', () => {
    expect(tail('a\r\nb\n\n')).toBe('a\nb');
    expect(tail('x'.repeat(5000))).toHaveLength(4001);
  });
});
