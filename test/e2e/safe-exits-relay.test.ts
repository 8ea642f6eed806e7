/**
 * Issue 15, items 3, 4, 7 and 13: the built CLI, spawned, against an emulator on loopback whose
 * answers go wrong while a rollout holds the canary at a stage: the route cannot be read (reset,
 * reset mid-body, a malformed or oversized 200, a hung call), a stage's PATCH fails, the
 * rollback's PATCH hangs or keeps failing. Each asserts the route's final weights, the exit
 * code, the last line and the journal.
 */
import { describe, expect, it } from 'vitest';
import type { StartedEmulator } from '../../src/emulator/index.js';
import type { FaultMode } from '../../src/emulator/types.js';
import {
  BASELINE,
  CANARY,
  e2eEnv as env,
  lastLine,
  lastRun,
  lockExists,
  ownEmulator,
  rolloutArgs,
  runCli,
  scratch,
  until,
  weights,
  when,
} from '../helpers/index.js';

// Each test has an emulator of its own (its faults and behaviours are the emulator's, not a
// route's) and waits on real deadlines: they run at once.
describe('a relay that fails while the canary holds traffic (spawned)', { concurrent: true }, () => {
  const args = (emulator: StartedEmulator, plan: string, ...more: string[]) =>
    rolloutArgs(emulator.baseUrl, plan, ...more);
  const routeReads = (route: string) => ({ method: 'GET', path_prefix: `/v1/routes/traffic/${route}` });

  it.for<[FaultMode, string]>([
    ['reset', 'the connection was closed'],
    ['reset_mid_body', 'the connection'],
    ['malformed', 'unexpected shape'],
    ['oversized', ''],
    ['hang', 'no complete answer within the 3s deadline'],
  ])(
    'the route cannot be read (%s): the baseline is restored, exit 5',
    async ([mode, said], { onTestFinished }) => {
      const emulator = await ownEmulator(onTestFinished, 21);
      const s = scratch(`unreadable-${mode.replace(/_/g, '-')}`, { bake: '30s' });
      let injectedAt = 0;
      const result = await runCli(args(emulator, s.plan), {
        env: env(),
        cwd: s.dir,
        onStdout: when(/\[weights\]/, () => {
          injectedAt = Date.now();
          emulator.control.injectFault({ mode, count: 1000, ...routeReads(s.route) } as never);
        }),
      });
      emulator.control.clearFaults();
      expect(result.code, result.stderr).toBe(5);
      expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
      expect(lastLine(result.stdout)).toMatch(
        /rolled back at stage 1\/3: the route could not be read: .*traffic at baseline/,
      );
      expect(result.stdout).toContain(said);
      const run = lastRun(s);
      const started = run.find((r) => r.type === 'rollback_started');
      expect(started).toMatchObject({ cause: 'relay_error' });
      expect(run.at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'rolled_back', exit_code: 5 });
      // The read gave up within its interval (1 s) plus the grace, not the client's 60 s default.
      expect(Number(started?.at) - injectedAt).toBeLessThan(15_000);
      expect(lockExists(s)).toBe(false);
    },
  );

  it('a malformed 200 now and then is retried within the read, and the rollout carries on', async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 21);
    const s = scratch('malformed-once', { bake: '2s' });
    const seen = emulator.control.calls().length;
    const result = await runCli(args(emulator, s.plan), {
      env: env(),
      cwd: s.dir,
      onStdout: when(/\[weights\]/, () =>
        emulator.control.injectFault({ mode: 'malformed', count: 2, ...routeReads(s.route) } as never),
      ),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 0, [CANARY]: 100 });
    expect(
      emulator.control
        .calls()
        .slice(seen)
        .filter((c) => c.fault === 'malformed'),
    ).toHaveLength(2);
  });

  it('a signal while a read hangs: the rollback does not wait for it', async ({ onTestFinished }) => {
    const emulator = await ownEmulator(onTestFinished, 21);
    const s = scratch('hung-read-signal', { bake: '30s' });
    let signalledAt = 0;
    const result = await runCli(args(emulator, s.plan), {
      env: env(),
      cwd: s.dir,
      onStdout: when(/\[weights\]/, (child) => {
        emulator.control.injectFault({
          mode: 'hang',
          count: 1000,
          method: 'GET',
          path_prefix: '/v1/metrics',
        });
        // The signal goes once a metrics read is hanging (the emulator logs a hung call when it
        // takes it), not after a fixed delay a loaded machine could outrun.
        const hanging = () =>
          emulator.control.calls().some((c) => c.fault === 'hang' && c.path.startsWith('/v1/metrics'));
        void until('a hung metrics read', hanging).then(() => {
          signalledAt = Date.now();
          child.kill('SIGTERM');
        });
      }),
    });
    emulator.control.clearFaults();
    expect(result.code, result.stderr).toBe(143);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    const rolled = lastRun(s).find((r) => r.type === 'rolled_back');
    expect(Number(rolled?.at) - signalledAt).toBeLessThan(5_000);
  });

  it("a stage's PATCH that fails with 503 is read back, found not applied, sent again: promoted", async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 21);
    const s = scratch('patch-503', { bake: '2s' });
    const seen = emulator.control.calls().length;
    const result = await runCli(args(emulator, s.plan), {
      env: env(),
      cwd: s.dir,
      onStdout: when(/\[weights\]/, () =>
        emulator.control.injectFault({ mode: 'server_error', count: 1, method: 'PATCH' }),
      ),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 0, [CANARY]: 100 });
    const calls = emulator.control
      .calls()
      .slice(seen)
      .filter((c) => c.path.startsWith('/v1/routes/traffic'));
    const failed = calls.findIndex((c) => c.method === 'PATCH' && c.status === 503);
    expect(failed).toBeGreaterThan(0);
    // The contract: after a 5xx on PATCH, read the route back before deciding anything.
    expect(calls[failed + 1]).toMatchObject({ method: 'GET', status: 200 });
    expect(calls[failed + 2]).toMatchObject({ method: 'PATCH', status: 200 });
  });

  it("a rollback whose first PATCH hangs is sent again within the plan's deadline: exit 3", async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 21);
    const s = scratch('rollback-hang', {
      bake: '30s',
      more: { rollback: { deadline: '8s' } },
    });
    const result = await runCli(args(emulator, s.plan), {
      env: env(),
      cwd: s.dir,
      onStdout: when(/\[weights\]/, () => {
        emulator.control.injectFault({ mode: 'hang', count: 1, method: 'PATCH' });
        emulator.control.setBehaviour(CANARY, { error_rate: 0.5 });
      }),
    });
    emulator.control.clearFaults();
    emulator.control.setBehaviour(CANARY, { error_rate: 0.004 });
    expect(result.code, result.stderr).toBe(3);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(lastLine(result.stdout)).toMatch(/rolled back at stage 1\/3/);
    expect(lastRun(s).at(-1)).toMatchObject({
      type: 'rollout_finished',
      outcome: 'rolled_back',
      exit_code: 3,
    });
  });

  it('a rollback that cannot be confirmed names the last real cause, not the deadline', async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 21);
    const s = scratch('rollback-500', { bake: '30s', more: { rollback: { deadline: '3s' } } });
    const result = await runCli(args(emulator, s.plan), {
      env: env(),
      cwd: s.dir,
      onStdout: when(/\[weights\]/, () => {
        emulator.control.injectFault({ mode: 'server_error', count: 1000, status: 500, method: 'PATCH' });
        emulator.control.setBehaviour(CANARY, { error_rate: 0.5 });
      }),
    });
    emulator.control.clearFaults();
    emulator.control.setBehaviour(CANARY, { error_rate: 0.004 });
    expect(result.code, result.stderr).toBe(4);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 95, [CANARY]: 5 });
    const failed = lastRun(s).find((r) => r.type === 'rollback_failed') as { message: string };
    expect(failed.message).toMatch(
      /could not be confirmed within 3s \(\d+ attempts; last: .*failed with 500 server_error/,
    );
    expect(failed.message).toMatch(/the PATCH did not apply/);
    expect(failed.message).not.toMatch(/\d+ ms deadline/);
    expect(lastRun(s).at(-1)).toMatchObject({
      type: 'rollout_finished',
      outcome: 'rollback_failed',
      exit_code: 4,
    });
    expect(result.stdout + result.stderr).toContain('curl');
  });
});
