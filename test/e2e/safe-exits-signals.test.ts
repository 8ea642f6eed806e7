/**
 * Issue 15, items 1, 2, 8 and 10: the built CLI, spawned, against an emulator on loopback,
 * told to stop in the ways a real run is: a hang-up, SIGTERM to a resumed run, the --timeout
 * of a resumed run, SIGTERM while a rollback is being retried, and kill -9 right after the
 * 100 % PATCH. Each asserts the route's final weights, the exit code, the last line and the
 * journal.
 */
import { describe, expect, it } from 'vitest';
import type { StartedEmulator } from '../../src/emulator/index.js';
import type { CallRecord } from '../../src/emulator/types.js';
import {
  BASELINE,
  CANARY,
  e2eEnv as env,
  journal,
  lastLine,
  lastRun,
  lockExists,
  maxErrorRate,
  ownEmulator,
  rolloutArgs,
  runCli,
  scratch,
  weights,
  when,
} from '../helpers/index.js';

// Each test has an emulator of its own (faults and a version's behaviour are the emulator's, not a
// route's) and waits on real signals and deadlines: they run at once.
describe('signals and resumed runs (spawned)', { concurrent: true }, () => {
  const args = (emulator: StartedEmulator, plan: string, ...more: string[]) =>
    rolloutArgs(emulator.baseUrl, plan, ...more);

  it('SIGHUP mid-stage rolls back like SIGTERM, exits 129, closes the journal and the lock', async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 15);
    const s = scratch('hup-route', { bake: '30s' });
    const result = await runCli(args(emulator, s.plan), {
      env: env(),
      cwd: s.dir,
      onStdout: when(/\[weights\]/, (child) => child.kill('SIGHUP')),
    });
    expect(result.code, result.stderr).toBe(129);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(lastLine(result.stderr)).toMatch(
      /^hung up \(SIGHUP\): rolled back to the baseline \(--on-interrupt rollback\); traffic: claude-sonnet-4-5-v1 100%, claude-sonnet-4-5-v2 0%; exit 129$/,
    );
    const run = lastRun(s);
    expect(run.at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'interrupted', exit_code: 129 });
    expect(run.map((r) => r.type)).toContain('rolled_back');
    expect(lockExists(s)).toBe(false);
  });

  it('SIGHUP with --on-interrupt leave keeps the stage and says so', async ({ onTestFinished }) => {
    const emulator = await ownEmulator(onTestFinished, 15);
    const s = scratch('hup-leave-route', { bake: '30s' });
    const result = await runCli(args(emulator, s.plan, '--on-interrupt', 'leave'), {
      env: env(),
      cwd: s.dir,
      onStdout: when(/\[weights\]/, (child) => child.kill('SIGHUP')),
    });
    expect(result.code).toBe(129);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 95, [CANARY]: 5 });
    expect(lastLine(result.stderr)).toMatch(/^hung up \(SIGHUP\): left traffic where it was .*5%.*exit 129$/);
    expect(lastRun(s).at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'interrupted' });
    expect(lockExists(s)).toBe(false);
  });

  it('a resumed run rolls back on SIGTERM: the policy follows the route, not who wrote it', async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 15);
    const s = scratch('resume-term-route', { bake: '2s' });
    const held = await runCli(args(emulator, s.plan, '--until-stage', '1'), { env: env(), cwd: s.dir });
    expect(held.code, held.stderr).toBe(0);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 95, [CANARY]: 5 });

    const resumed = await runCli(args(emulator, s.plan, '--yes'), {
      env: env(),
      cwd: s.dir,
      onStdout: when(/\[weights\]/, (child) => child.kill('SIGTERM')),
    });
    expect(resumed.code, resumed.stderr).toBe(143);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(lastLine(resumed.stderr)).toMatch(
      /^terminated \(SIGTERM\): rolled back to the baseline \(--on-interrupt rollback\); traffic: .*v1 100%.*; exit 143$/,
    );
    expect(lastRun(s).at(-1)).toMatchObject({
      type: 'rollout_finished',
      outcome: 'interrupted',
      exit_code: 143,
    });
    expect(lockExists(s)).toBe(false);
  });

  it('a signal while a resumed run is still in pre-flight rolls the resumed stage back too', async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 15);
    const s = scratch('resume-early-route', { bake: '2s' });
    expect(
      (await runCli(args(emulator, s.plan, '--until-stage', '2'), { env: env(), cwd: s.dir })).code,
    ).toBe(0);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 75, [CANARY]: 25 });
    // The health check hangs, so the signal lands before the engine has read the route.
    emulator.control.injectFault({ mode: 'hang', count: 1, path_prefix: '/v1/health' });
    const resumed = await runCli(args(emulator, s.plan, '--yes'), {
      env: env(),
      cwd: s.dir,
      onStdout: when(/\[preflight\]|\[start\]|rollout/, (child) => child.kill('SIGTERM')),
    });
    emulator.control.clearFaults();
    expect(resumed.code, resumed.stderr).toBe(143);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(lastLine(resumed.stderr)).toMatch(/^terminated \(SIGTERM\): rolled back to the baseline/);
  });

  it('a resumed run with --timeout rolls back when the time is up (exit 5)', async ({ onTestFinished }) => {
    const emulator = await ownEmulator(onTestFinished, 15);
    const s = scratch('resume-timeout-route', { bake: '2s' });
    expect(
      (await runCli(args(emulator, s.plan, '--until-stage', '1'), { env: env(), cwd: s.dir })).code,
    ).toBe(0);
    const resumed = await runCli(args(emulator, s.plan, '--yes', '--timeout', '1s'), {
      env: env(),
      cwd: s.dir,
    });
    expect(resumed.code, resumed.stderr).toBe(5);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(lastLine(resumed.stderr)).toMatch(
      /^timed out after 1s \(--timeout\): rolled back to the baseline \(--on-timeout rollback\); .*exit 5$/,
    );
    expect(lastRun(s).at(-1)).toMatchObject({
      type: 'rollout_finished',
      outcome: 'interrupted',
      exit_code: 5,
    });
  });

  it('SIGTERM while a rollback is being retried: the rollback finishes, exit 143, a terminated line', async ({
    onTestFinished,
  }) => {
    /** Called after each API call the emulator answers, in this process, before it reads the next one. */
    let afterCall: ((call: CallRecord) => void) | undefined;
    const emulator = await ownEmulator(onTestFinished, 15, { onCall: (call) => afterCall?.(call) });
    const s = scratch('term-rollback-route', { bake: '30s' });
    emulator.control.setBehaviour(CANARY, { error_rate: 0 });
    let breakIt = true;
    let signalled = false;
    const result = await runCli(args(emulator, s.plan), {
      env: env(),
      cwd: s.dir,
      onStdout: (chunk, child) => {
        if (breakIt && chunk.includes('[weights]')) {
          breakIt = false;
          // Every PATCH fails for a while, then the canary breaks: the rollback is retried.
          emulator.control.injectFault({ mode: 'server_error', count: 1000, method: 'PATCH' });
          emulator.control.setBehaviour(CANARY, { error_rate: 0.5 });
        }
        if (!signalled && chunk.includes('[rollback]')) {
          signalled = true;
          child.kill('SIGTERM');
          // The PATCHes fail until the run has surely taken the signal: the second failed
          // PATCH answered after the kill was sent after the run had read the first one's
          // answer, by when its signal was waiting too. A fixed delay raced a loaded machine.
          let failedSince = 0;
          afterCall = (call) => {
            if (call.method === 'PATCH' && call.fault && ++failedSince === 2) {
              emulator.control.clearFaults();
              afterCall = undefined;
            }
          };
        }
      },
    });
    afterCall = undefined;
    emulator.control.clearFaults();
    emulator.control.setBehaviour(CANARY, { error_rate: 0.004 });
    expect(result.code, result.stderr).toBe(143);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(lastLine(result.stderr)).toMatch(
      /^terminated \(SIGTERM\): during a rollback \(health\), which finished: rolled back to the baseline; traffic: .*; exit 143$/,
    );
    expect(lastRun(s).at(-1)).toMatchObject({
      type: 'rollout_finished',
      outcome: 'rolled_back',
      exit_code: 143,
    });
  });

  it('kill -9 right after the 100 % PATCH: a re-run resumes the last stage, judges it and closes the run', async ({
    onTestFinished,
  }) => {
    /** Called after each API call the emulator answers, in this process, before it reads the next one. */
    let afterCall: ((call: CallRecord) => void) | undefined;
    const emulator = await ownEmulator(onTestFinished, 15, { onCall: (call) => afterCall?.(call) });
    // Health is not under test here: a lax limit keeps the test about the kill.
    const s = scratch('kill-at-100-route', { bake: '2s', analysis: maxErrorRate(0.9) });
    // Once the 100 % PATCH is answered, every metrics read hangs: the run reads its route back,
    // journals stage 3 and prints it, then cannot leave the stage before the kill, however late
    // a loaded machine delivers that line (a 2 s bake alone raced the kill).
    afterCall = (call) => {
      const rules =
        (call.body as { route_id?: string; route_rules?: { weight: number }[] } | undefined) ?? {};
      if (
        call.method === 'PATCH' &&
        rules.route_id === s.route &&
        rules.route_rules?.some((r) => r.weight === 100)
      ) {
        emulator.control.injectFault({
          mode: 'hang',
          method: 'GET',
          path_prefix: '/v1/metrics',
          count: 1_000,
        });
        afterCall = undefined;
      }
    };
    const killed = await runCli(args(emulator, s.plan), {
      env: env(),
      cwd: s.dir,
      onStdout: when(/\[stage 3\/3\]/, (child) => child.kill('SIGKILL')),
    }).finally(() => emulator.control.clearFaults());
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 0, [CANARY]: 100 });

    // Not "already promoted": without --yes and no terminal it asks for the flag, as any resume.
    const refused = await runCli(args(emulator, s.plan), { env: env(), cwd: s.dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/stage 3\/3 .*was interrupted there; nothing was changed/);

    const rerun = await runCli(args(emulator, s.plan, '--yes'), { env: env(), cwd: s.dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/\[check\]/); // the last stage was judged
    expect(lastLine(rerun.stdout)).toMatch(/promoted/);
    expect(lastRun(s).at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'promoted' });
    const headers = journal(s).filter((r) => r.type === 'run_started');
    expect(headers.at(-1)).toMatchObject({ resumes: headers[0]?.run, start_stage: 3 });

    // A route promoted by a finished run is still "already promoted".
    const again = await runCli(args(emulator, s.plan), { env: env(), cwd: s.dir });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already promoted, nothing to do/);
  });
});
