/**
 * Issue 15, item 12: `::add-mask::` prints the key itself, which only a GitHub runner hides.
 * It is written when GITHUB_ACTIONS=true *and* RUNNER_TEMP is set (a runner sets both), and never
 * to a terminal. The built CLI, spawned.
 */
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { e2eEnv as env, E2E_KEY as KEY, runCli, scratch } from '../helpers/index.js';
import { spawnPty } from '../helpers/pty.js';

describe('::add-mask:: only on a GitHub runner (spawned)', () => {
  // A relay that rejects the key: the run stops at once (exit 2), after the masks would be out.
  let relay: StartedEmulator;
  let DEAD_RELAY = '';
  beforeAll(async () => {
    relay = await startEmulator({ port: 0, apiKey: 'another-key-entirely' });
    DEAD_RELAY = relay.baseUrl;
  });
  afterAll(async () => {
    await relay?.close();
  });

  it('GITHUB_ACTIONS=true alone (a copied environment): no mask, and the key appears nowhere', async () => {
    const s = scratch('mask-route');
    const result = await runCli(['rollout', s.plan, '--relay-url', DEAD_RELAY], {
      env: env({ GITHUB_ACTIONS: 'true', CI: 'true' }),
      cwd: s.dir,
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout + result.stderr).not.toContain('::add-mask::');
    expect(result.stdout + result.stderr).not.toContain(KEY);
  });

  it('on a runner (GITHUB_ACTIONS and RUNNER_TEMP), the mask comes first, and is the only place of the key', async () => {
    const s = scratch('mask-route-runner');
    const result = await runCli(['rollout', s.plan, '--relay-url', DEAD_RELAY], {
      env: env({ GITHUB_ACTIONS: 'true', CI: 'true', RUNNER_TEMP: tmpdir() }),
      cwd: s.dir,
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout.split('\n')[0]).toBe(`::add-mask::${KEY}`);
    expect((result.stdout + result.stderr).split(KEY).length - 1).toBe(1);
  });

  it('never to a terminal, even with both variables set', async () => {
    const s = scratch('mask-route-tty');
    const run = spawnPty(['rollout', s.plan, '--relay-url', DEAD_RELAY], {
      env: { ...env({ GITHUB_ACTIONS: 'true', RUNNER_TEMP: tmpdir() }), TERM: 'xterm-256color' },
      cwd: s.dir,
    });
    const exit = await run.exited;
    expect(exit.code).toBe(2);
    expect(run.screen()).toMatch(/rejected the API key/);
    expect(run.screen()).not.toContain('::add-mask::');
    expect(run.screen()).not.toContain(KEY);
  });
});
