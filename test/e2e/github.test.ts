/**
 * GitHub Actions: with GITHUB_ACTIONS=true the spawned CLI masks the key first, groups each
 * stage's log, names the failing check in `::error::`, and appends a Markdown summary to
 * $GITHUB_STEP_SUMMARY. A failing `checks:` script rolls back like a failed health check.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import {
  BASELINE as BASE,
  baseEnv,
  CANARY,
  type ExampleEmulators,
  type PlanSpec,
  pipelinePlanSpec,
  runCli,
  startExampleEmulators,
  weights,
  writePlanFile,
} from '../helpers/index.js';

const KEY = 'gh-e2e-key-9e3c5a7b2d';

let counter = 0;
function writePlan(more: PlanSpec['more'] = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'canary-gh-'));
  const route = `gh-route-${process.pid}-${++counter}`;
  const file = writePlanFile(path.join(dir, 'plan.yaml'), pipelinePlanSpec(route, { more }));
  const summary = path.join(dir, 'summary.md');
  writeFileSync(summary, '# earlier step\n');
  return { dir, file, route, summary };
}

// Each test is its own route, folder and summary file, waiting on real bakes: they run at once.
describe('canary rollout on GitHub Actions (spawned)', { concurrent: true }, () => {
  let healthy: EmulatorHandle;
  let failing: EmulatorHandle;
  let emulators: ExampleEmulators | undefined;
  beforeAll(async () => {
    emulators = await startExampleEmulators(KEY, 5);
    ({ healthy, failing } = emulators);
  });
  afterAll(async () => {
    await emulators?.close();
  });
  const run = (plan: { file: string; summary: string }, emulator: EmulatorHandle, args: string[] = []) =>
    runCli(['rollout', plan.file, '--relay-url', emulator.baseUrl, ...args], {
      env: baseEnv({
        RELAY_API_KEY: KEY,
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        RUNNER_TEMP: tmpdir(),
        GITHUB_STEP_SUMMARY: plan.summary,
      }),
    });

  it('masks the key first, groups each stage, and appends a summary of a promotion', async () => {
    const plan = writePlan();
    const result = await run(plan, healthy);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    // The one place the key may appear: the mask command, before anything else.
    expect(lines[0]).toBe(`::add-mask::${KEY}`);
    expect((result.stdout + result.stderr).split(KEY).length - 1).toBe(1);
    const groups = lines.filter((l) => l.startsWith('::group::'));
    expect(groups).toEqual([
      expect.stringMatching(/^::group::Stage 1\/3 · canary 10%/),
      expect.stringMatching(/^::group::Stage 2\/3 · canary 50%/),
      expect.stringMatching(/^::group::Stage 3\/3 · canary 100%/),
    ]);
    expect(lines.filter((l) => l === '::endgroup::')).toHaveLength(3);
    // The result line is outside every group, so it shows in the collapsed log.
    const resultAt = lines.findIndex((l) => l.includes('[result]'));
    expect(lines.lastIndexOf('::endgroup::')).toBeLessThan(resultAt);
    expect(result.stdout).not.toContain('::error');

    const summary = readFileSync(plan.summary, 'utf8');
    expect(summary.startsWith('# earlier step\n')).toBe(true); // appended, never overwritten
    expect(summary).toContain(`canary: \`${plan.route}\` promoted`);
    expect(summary).toMatch(/\| 1\/3 \| 10% \| 1s \| passed/);
    expect(summary).toMatch(/\| 3\/3 \| 100% \| — \| passed/);
    expect(summary).toContain('| Version | Requests | Error rate | p50 | p99 | Cost / token |');
    expect(summary).toContain(`canary \`${CANARY}\``);
    expect(summary).toContain('(exit 0)');
    expect(summary).not.toContain(KEY);
  });

  it('names the failing check in ::error:: on rollback, and the summary says rolled back', async () => {
    const plan = writePlan();
    const result = await run(plan, failing);
    expect(result.code, result.stdout + result.stderr).toBe(3);
    const error = result.stdout.split('\n').find((l) => l.startsWith('::error'));
    expect(error).toMatch(/^::error title=canary rolled back [^:]+::/);
    expect(error).toContain('error_rate');
    const summary = readFileSync(plan.summary, 'utf8');
    expect(summary).toContain('rolled back');
    expect(summary).toMatch(/\| 2\/3 \| 50% \| 1s \| failed/);
    expect(summary).toMatch(/\| `error_rate\.max` \| fail \|/);
  });

  it('stage checks: a passing script lets the stage go on, a failing one rolls back with its output in the event and ::error::', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-checks-'));
    const ok = path.join(dir, 'smoke.sh');
    writeFileSync(
      ok,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
      '#!/bin/sh\necho "smoke ok at $CANARY_WEIGHT % on $CANARY_ROUTE key=${RELAY_API_KEY:-unset}"\n',
    );
    const bad = path.join(dir, 'eval.sh');
    writeFileSync(
      bad,
      '#!/bin/sh\nif [ "$CANARY_STAGE" = 2 ]; then echo "eval score 0.41 below 0.8" >&2; exit 7; fi\necho ok\n',
    );
    chmodSync(ok, 0o755);
    chmodSync(bad, 0o755);
    const plan = writePlan({
      checks: [
        { name: 'smoke', run: ok, timeout: '10s' },
        { name: 'eval', run: bad },
      ],
    });
    const result = await run(plan, healthy, ['--output', 'json']);
    expect(result.code, result.stderr).toBe(3);
    const events = result.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const checks = events.filter((e) => e.type === 'stage_check') as {
      stage: number;
      check: { name: string; status: string; exit_code: number | null; output: string };
    }[];
    expect(checks.map((c) => [c.stage, c.check.name, c.check.status])).toEqual([
      [0, 'smoke', 'pass'],
      [0, 'eval', 'pass'],
      [1, 'smoke', 'pass'],
      [1, 'eval', 'fail'],
    ]);
    expect(checks[0]?.check.output).toBe(`smoke ok at 10 % on ${plan.route} key=unset`);
    expect(checks[3]?.check).toMatchObject({ exit_code: 7, output: 'eval score 0.41 below 0.8' });
    const rollback = events.find((e) => e.type === 'rollback_started');
    expect(rollback).toMatchObject({ cause: 'health', stage: 1 });
    expect(String(rollback?.reason)).toContain("stage check 'eval' failed with exit code 7");
    expect(weights(healthy, plan.route)).toEqual({ [BASE]: 100, [CANARY]: 0 });
    // In JSON mode stdout stays pure NDJSON; the workflow commands go to stderr.
    const error = result.stderr.split('\n').find((l) => l.startsWith('::error'));
    expect(error).toContain('eval score 0.41 below 0.8');
    expect(result.stderr.split('\n')[0]).toBe(`::add-mask::${KEY}`);
  });
});
