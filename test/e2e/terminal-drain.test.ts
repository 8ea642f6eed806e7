/**
 * A person's Ctrl-C once the run is over: under a real pseudo-terminal, the live view closed
 * (raw mode off, so Ctrl-C is a SIGINT again) while the exit waits for a webhook that never
 * answers. No menu on a terminal whose session has closed: it is a signal after the outcome,
 * which cuts the webhooks' wait short and leaves the run's own exit code.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import {
  baseEnv,
  CANARY,
  E2E_KEY,
  lastRun,
  lockExists,
  ownEmulator,
  scratch,
  until,
  weights,
} from '../helpers/index.js';
import { KEY, spawnPty } from '../helpers/pty.js';

// A real rollout in real time; the cap only stops a hung one.
vi.setConfig({ testTimeout: 120_000 });

describe('Ctrl-C at a closed terminal (pty)', () => {
  it('during the exit drain after `r`: no menu, the drain cut short, exit 3 stands', async ({
    onTestFinished,
  }) => {
    const emulator = await ownEmulator(onTestFinished, 19);
    const open: ServerResponse[] = [];
    const hook = createServer((req, res) => {
      req.resume();
      req.on('end', () => open.push(res)); // takes the notice, never answers
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    onTestFinished(async () => {
      for (const res of open) res.destroy();
      hook.closeAllConnections();
      await new Promise<void>((resolve) => hook.close(() => resolve()));
    });
    const s = scratch('pty-drain-route', {
      bake: '10m',
      more: { notify: [{ url_env: 'DEAD_WEBHOOK_URL', format: 'json', timeout: '30s' }] },
    });
    const r = spawnPty(['rollout', s.plan, '--relay-url', emulator.baseUrl], {
      cwd: s.dir,
      env: baseEnv({
        RELAY_API_KEY: E2E_KEY,
        TERM: 'xterm-256color',
        DEAD_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks/deadsecretpath`,
      }),
    });
    onTestFinished(() => r.kill());
    await r.waitFor('keys: p promote · h hold · r roll back · q quit · Ctrl-C menu');
    r.write('r');
    // The journal has ended (outcome written, lock released): the exit now waits on the webhook.
    await until('the journal to end', () => lastRun(s).at(-1)?.type === 'rollout_finished' && !lockExists(s));
    expect(lastRun(s).at(-1)).toMatchObject({ outcome: 'rolled_back', exit_code: 3 });
    const mark = r.mark();
    r.write(KEY.ctrlC);
    await r.waitFor(
      /interrupted \(SIGINT\) after the run's outcome was decided: webhook delivery cut short, \d+ webhook notices? not delivered; the outcome stands: rolled_back, traffic: .*; exit 3/,
      { from: mark },
    );
    expect((await r.exited).code, r.screen()).toBe(3);
    expect(r.screen().slice(mark)).not.toContain('What now?'); // no menu
    expect(r.screen()).not.toMatch(/not delivered within 3s at exit/);
    expect(weights(emulator, s.route)[CANARY]).toBe(0);
  });
});
