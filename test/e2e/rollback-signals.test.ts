/**
 * `canary rollback` answers a stop signal while it retries (the incident command: whoever
 * presses Ctrl-C is told where the route is). The built CLI, spawned, against an emulator on
 * loopback whose faults keep the rollback in its retry loop; each signal is sent when the
 * emulator sees the call it is about (its call hook), never after a sleep.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import type { CallRecord } from '../../src/emulator/types.js';
import {
  BASELINE,
  CANARY,
  e2eEnv as env,
  E2E_KEY as KEY,
  lastRun,
  patchRoute,
  runCli,
  scratch,
  seedRoute,
  weights,
} from '../helpers/index.js';

const split = [
  { version_tag: BASELINE, weight: 75 },
  { version_tag: CANARY, weight: 25 },
];
const rolledBack = [
  { version_tag: BASELINE, weight: 100 },
  { version_tag: CANARY, weight: 0 },
];

describe('canary rollback stopped by a signal while it retries (spawned)', () => {
  let emulator: StartedEmulator;
  /** The emulator's calls, in order, and what the current test does on each. */
  const calls: CallRecord[] = [];
  let onCall: (call: CallRecord) => void = () => {};
  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      apiKey: KEY,
      rps: 200,
      seed: 21,
      onCall: (call) => {
        calls.push(call);
        onCall(call);
      },
    });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  /** Sends `signal` to the child the first `times` calls matching `match` (one signal per call). */
  function signalOn(
    match: (call: CallRecord) => boolean,
    signal: NodeJS.Signals,
    act?: (call: CallRecord) => Promise<unknown> | undefined,
  ): { onSpawn: (child: ChildProcess) => void; sentAt: () => number } {
    let sentAt = -1;
    return {
      onSpawn: (child) => {
        onCall = (call) => {
          if (sentAt >= 0 || !match(call)) return;
          sentAt = calls.length;
          void Promise.resolve(act?.(call)).then(() => child.kill(signal));
        };
      },
      sentAt: () => sentAt,
    };
  }

  const lines = (text: string) => text.trimEnd().split('\n');

  it('--route: SIGINT after a failed PATCH stops the retrying, reads the route, says it is not rolled back: 130', async () => {
    const route = 'sig-retry-route';
    await seedRoute(emulator, KEY, route, split);
    emulator.control.injectFault({ mode: 'server_error', count: 1000, method: 'PATCH' });
    const sig = signalOn((c) => c.method === 'PATCH' && c.status === 503, 'SIGINT');
    const url = emulator.baseUrl;
    const result = await runCli(['rollback', '--route', route, '--to', BASELINE, '--relay-url', url], {
      env: env(),
      onSpawn: sig.onSpawn,
    });
    emulator.control.clearFaults();
    expect(result.signal, result.stderr).toBeNull();
    expect(result.code, result.stderr).toBe(130);
    const last = lines(result.stderr).slice(-4);
    expect(last[0]).toMatch(
      new RegExp(
        `^error: interrupted \\(SIGINT\\) before the rollback of ${route} to ${BASELINE} was confirmed: ` +
          'a PATCH was sent but not confirmed \\(last: .*503.*\\), so it may or may not have landed; ' +
          `${route} reads back ${BASELINE} 75%, ${CANARY} 25% \\(revision \\d+\\): the rollback is not in place; exit 130$`,
      ),
    );
    expect(last.slice(1)).toEqual([
      'hint: check where the route is, then roll it back again:',
      `  canary status --route ${route} --relay-url ${url}`,
      `  canary rollback --route ${route} --to ${BASELINE} --relay-url ${url}`,
    ]);
    // What the relay really holds, and that the retrying stopped: no PATCH after the signal,
    // the last call the one read.
    expect(weights(emulator, route)).toEqual({ [BASELINE]: 75, [CANARY]: 25 });
    const after = calls.slice(sig.sentAt());
    expect(after.filter((c) => c.method === 'PATCH')).toEqual([]);
    expect(after.at(-1)).toMatchObject({ method: 'GET', status: 200 });
    expect(result.stdout).toBe('');
  });

  it('plan.yaml -o json: SIGTERM with the PATCH hung: a rollback_interrupted record, the journal says the same: 143', async () => {
    const s = scratch('sig-hang-route');
    await seedRoute(emulator, KEY, s.route, split);
    // The route has a journal here, so the rollback is recorded in it.
    mkdirSync(path.join(s.dir, '.canary'), { recursive: true });
    writeFileSync(path.join(s.dir, '.canary', `${s.route}.journal.ndjson`), '');
    emulator.control.injectFault({ mode: 'hang', count: 1000, method: 'PATCH' });
    const sig = signalOn((c) => c.method === 'PATCH' && c.fault === 'hang', 'SIGTERM');
    const url = emulator.baseUrl;
    const result = await runCli(['rollback', s.plan, '--relay-url', url, '-o', 'json', '-m', 'p99 up'], {
      env: env(),
      cwd: s.dir,
      onSpawn: sig.onSpawn,
    });
    emulator.control.clearFaults();
    expect(result.code, result.stderr).toBe(143);
    const records = lines(result.stdout).map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      type: 'rollback_interrupted',
      version: 4,
      route: s.route,
      to: BASELINE,
      signal: 'SIGTERM',
      patch_sent: true,
      read_back: split,
      read_error: null,
      exit_code: 143,
      next: [`canary status ${s.plan} --relay-url ${url}`, `canary rollback ${s.plan} --relay-url ${url}`],
    });
    expect(records[0].message).toMatch(/a PATCH was sent but not confirmed \(last: no answer\)/);
    expect(lines(result.stderr).at(-4)).toBe(`error: ${records[0].message}`);
    expect(weights(emulator, s.route)).toEqual({ [BASELINE]: 75, [CANARY]: 25 });
    const run = lastRun(s);
    expect(run.map((r) => r.type)).toEqual(['run_started', 'rollback_failed', 'run_ended']);
    expect(run[0]).toMatchObject({ command: 'rollback', reason: 'p99 up' });
    expect(run[2]).toMatchObject({ exit_code: 143, message: `${records[0].message}: p99 up` });
  });

  it('a PATCH that landed though its answer never came: the last read confirms it, exit 0', async () => {
    const route = 'sig-landed-route';
    await seedRoute(emulator, KEY, route, split);
    // The first PATCH hangs; the same change then reaches the relay another way (as a PATCH whose
    // answer was lost would), and the signal comes.
    emulator.control.injectFault({ mode: 'hang', count: 1, method: 'PATCH' });
    const sig = signalOn(
      (c) => c.method === 'PATCH' && c.fault === 'hang',
      'SIGINT',
      () => patchRoute(emulator, KEY, route, rolledBack),
    );
    const result = await runCli(
      ['rollback', '--route', route, '--to', BASELINE, '--relay-url', emulator.baseUrl],
      { env: env(), onSpawn: sig.onSpawn },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      `rolled back ${route}: ${BASELINE} 75%, ${CANARY} 25% → ${BASELINE} 100%, ${CANARY} 0%\n`,
    );
    expect(lines(result.stderr).at(-1)).toBe(
      `interrupted (SIGINT) before the rollback's answer came, but ${route} reads back ${BASELINE} 100%, ${CANARY} 0%: the rollback is in place; exit 0`,
    );
  });

  it('a second signal during the last read ends it at once: the same message without the read', async () => {
    const route = 'sig-twice-route';
    await seedRoute(emulator, KEY, route, split);
    // Every call hangs: the first read, then the last one.
    emulator.control.injectFault({ mode: 'hang', count: 1000 });
    let hung = 0;
    const result = await runCli(
      ['rollback', '--route', route, '--to', BASELINE, '--relay-url', emulator.baseUrl],
      {
        env: env(),
        onSpawn: (child) => {
          onCall = (call) => {
            if (call.fault === 'hang' && ++hung <= 2) child.kill('SIGINT');
          };
        },
      },
    );
    emulator.control.clearFaults();
    expect(result.code, result.stderr).toBe(130);
    expect(hung).toBe(2);
    expect(lines(result.stderr).at(-4)).toBe(
      `error: interrupted (SIGINT) before the rollback of ${route} to ${BASELINE} was confirmed: ` +
        'no PATCH had gone out: nothing was changed; the route was not read back (a second signal); exit 130',
    );
    expect(weights(emulator, route)).toEqual({ [BASELINE]: 75, [CANARY]: 25 });
  });
});
