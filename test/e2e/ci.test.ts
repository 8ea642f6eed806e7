/**
 * `canary rollout` in a pipeline, spawned like a CI job: no terminal, stdin closed, CI set.
 * The emulator runs in this test process so the route's weights can be read between runs, the
 * way the next job of a pipeline (maybe on another machine) would find them on the relay.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { RECORD_VERSION } from '../../src/output/record.js';
import {
  BASELINE as BASE,
  baseEnv,
  CANARY,
  type ExampleEmulators,
  lastLine,
  type PlanSpec,
  pipelinePlanSpec,
  planInTempDir,
  runCli,
  seedRoute,
  startExampleEmulators,
  weights,
} from '../helpers/index.js';

const KEY = 'ci-e2e-key-4b8d2f7a1c';

// Real runs in real time, several at once: the cap only stops a hung one (the --until-stage test
// runs three jobs one after another).
vi.setConfig({ testTimeout: 120_000 });

let counter = 0;
/** A plan in its own folder: a fresh route each time, so runs never see each other's weights. */
function writePlan(spec: Omit<PlanSpec, 'route'> = {}) {
  const route = `ci-route-${process.pid}-${++counter}`;
  const { dir, plan } = planInTempDir(pipelinePlanSpec(route, spec));
  return { dir, file: plan, route };
}

const env = (extra: Record<string, string> = {}) => baseEnv({ RELAY_API_KEY: KEY, CI: 'true', ...extra });

// Each test is its own route and folder, waiting on real bakes and signals: they run at once.
describe('canary rollout in CI (spawned, no terminal)', { concurrent: true }, () => {
  let healthy: EmulatorHandle;
  let failing: EmulatorHandle;
  let emulators: ExampleEmulators | undefined;
  beforeAll(async () => {
    emulators = await startExampleEmulators(KEY, 11);
    ({ healthy, failing } = emulators);
  });
  afterAll(async () => {
    await emulators?.close();
  });
  const run = (args: string[], extra: Record<string, string> = {}, emulator = healthy) =>
    runCli(['rollout', ...args, '--relay-url', emulator.baseUrl], { env: env(extra) });

  it('promotes with exit 0; plain output has no escape sequences; --output-file holds the NDJSON events', async () => {
    const plan = writePlan();
    const out = path.join(plan.dir, 'events.ndjson');
    const result = await run([plan.file, '--output-file', out]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain('\u001b[');
    expect(result.stdout + result.stderr).not.toContain(KEY);
    expect(weights(healthy, plan.route)).toEqual({ [BASE]: 0, [CANARY]: 100 });
    const events = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; version: number; outcome?: string; stage?: number });
    expect(events.every((e) => e.version === RECORD_VERSION)).toBe(true);
    expect(events[0]?.type).toBe('rollout_started');
    expect(events.at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'promoted' });
    expect(events.filter((e) => e.type === 'stage_passed').map((e) => e.stage)).toEqual([0, 1, 2]);
    // The terminal output is the plain log, not JSON: the file is in addition to it.
    expect(result.stdout).toContain('[result]');
    expect(readFileSync(out, 'utf8')).not.toContain(KEY);
  });

  it('never prompts: a gate plan without --approve-gates exits 2 at once, naming the flag, with nothing changed', async () => {
    const plan = writePlan({ stages: [10, { weight: 50, pause: true }, 100] });
    const result = await run([plan.file]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('--approve-gates');
    expect(weights(healthy, plan.route)).toEqual({});
  });

  it('--approve-gates promotes through a gate', async () => {
    const plan = writePlan({ stages: [10, { weight: 50, pause: true }, 100] });
    const result = await run([plan.file, '--approve-gates', '--output', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('"gate_decision"');
    expect(weights(healthy, plan.route)).toEqual({ [BASE]: 0, [CANARY]: 100 });
  });

  it('--until-stage 2 holds at stage 2 (exit 0); a second job continues from the route and promotes', async () => {
    const plan = writePlan({ stages: [10, 25, 50, 100] });
    const first = await run([plan.file, '--until-stage', '2', '--output', 'json']);
    expect(first.code, first.stderr).toBe(0);
    const finished = JSON.parse(lastLine(first.stdout)) as { outcome: string };
    expect(finished.outcome).toBe('held');
    // What the next job finds on the relay: stage 2's weights.
    expect(weights(healthy, plan.route)).toEqual({ [BASE]: 75, [CANARY]: 25 });

    // Without --yes nobody can confirm the continue: exit 2 naming the flag, nothing moved.
    const refused = await run([plan.file]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(weights(healthy, plan.route)).toEqual({ [BASE]: 75, [CANARY]: 25 });

    const second = await run([plan.file, '--yes', '--output', 'json'], {
      CANARY_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'canary-other-machine-')),
    });
    expect(second.code, second.stderr).toBe(0);
    const events = second.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; start_stage?: number; weight?: number; outcome?: string });
    expect(events[0]).toMatchObject({ type: 'rollout_started', start_stage: 1 });
    // It never went back below the held stage.
    expect(events.filter((e) => e.type === 'stage_started').map((e) => e.weight)).toEqual([25, 50, 100]);
    expect(events.at(-1)).toMatchObject({ outcome: 'promoted' });
    expect(weights(healthy, plan.route)).toEqual({ [BASE]: 0, [CANARY]: 100 });

    // A third run finds the canary at 100 %: already promoted, nothing to do.
    const third = await run([plan.file, '--yes']);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toMatch(/already promoted/);
  });

  it('refuses weights that match no stage with exit 2, stating them and the way out', async () => {
    const plan = writePlan();
    await seedRoute(healthy, KEY, plan.route, [
      { version_tag: BASE, weight: 70 },
      { version_tag: CANARY, weight: 30 },
    ]);
    const result = await run([plan.file, '--yes']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`${BASE} 70%`);
    expect(result.stderr).toContain('canary rollback');
    expect(weights(healthy, plan.route)).toEqual({ [BASE]: 70, [CANARY]: 30 });
  });

  it('rolls back a failing canary with exit 3', async () => {
    const plan = writePlan({ stages: [10, 50, 100] });
    const result = await run([plan.file], {}, failing);
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(weights(failing, plan.route)).toEqual({ [BASE]: 100, [CANARY]: 0 });
  });

  it('--timeout rolls back (default) and exits 5, saying so last', async () => {
    const plan = writePlan({ bake: '30s' });
    // 5 s: well inside the 30 s bake, and long enough that a loaded machine is past the pre-flight.
    const result = await run([plan.file, '--timeout', '5s']);
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(weights(healthy, plan.route)).toEqual({ [BASE]: 100, [CANARY]: 0 });
    expect(lastLine(result.stderr)).toMatch(/timed out .*rolled back/);
  });

  it('--timeout with --on-timeout leave keeps the stage and exits 5', async () => {
    const plan = writePlan({ bake: '30s' });
    const result = await run([plan.file, '--timeout', '5s', '--on-timeout', 'leave']);
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(weights(healthy, plan.route)).toEqual({ [BASE]: 90, [CANARY]: 10 });
    expect(lastLine(result.stderr)).toMatch(/timed out .*left traffic where it was/);
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    for (const action of ['rollback', 'leave'] as const) {
      it(`${signal} with --on-interrupt ${action}: exit ${code}, the action stated in the last line`, async () => {
        const plan = writePlan({ bake: '30s' });
        let sent = false;
        const result = await runCli(
          [
            'rollout',
            plan.file,
            '--relay-url',
            healthy.baseUrl,
            '--output',
            'json',
            '--on-interrupt',
            action,
          ],
          {
            env: env(),
            onStdout: (chunk, child) => {
              if (!sent && chunk.includes('"weights_set"')) {
                sent = true;
                child.kill(signal);
              }
            },
          },
        );
        expect(sent).toBe(true);
        expect(result.code, result.stderr).toBe(code);
        const last = lastLine(result.stderr);
        if (action === 'rollback') {
          expect(weights(healthy, plan.route)).toEqual({ [BASE]: 100, [CANARY]: 0 });
          expect(last).toMatch(/rolled back to the baseline/);
        } else {
          expect(weights(healthy, plan.route)).toEqual({ [BASE]: 90, [CANARY]: 10 });
          expect(last).toMatch(/left traffic where it was/);
        }
        expect(last).toContain(signal);
        expect(last).toContain(`exit ${code}`);
      });
    }
  }
});
