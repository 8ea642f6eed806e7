/**
 * ora's spinner where a person waits with nothing else on screen (src/terminal/spinner.ts), at
 * a real terminal (node-pty): a rollback retrying a relay that fails its PATCH, and `status`
 * against a relay that makes it wait. Never with plain or JSON output, never in CI, and the
 * secrets it could echo are redacted like every other line.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RouteRule } from '../../src/domain/relay.js';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { baseEnv, seedRoute } from '../helpers/index.js';
import { spawnPty } from '../helpers/pty.js';

vi.setConfig({ testTimeout: 60_000 });

const KEY = 'spinner-key-5c1d92';
const HALF: RouteRule[] = [
  { version_tag: 'spin-v1', weight: 50 },
  { version_tag: 'spin-v2', weight: 50 },
];
/** ora's default frames (cli-spinners' dots). */
const FRAME = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

let emulator: StartedEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, apiKey: KEY, rps: 50, seed: 3 });
});

afterAll(async () => {
  await emulator.close();
});

async function reset(route: string): Promise<void> {
  await seedRoute(emulator, KEY, route, HALF);
  const res = await fetch(`${emulator.baseUrl}/routes/traffic`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ route_id: route, route_rules: HALF }),
  });
  expect(res.status).toBe(200);
}

async function rollbackAtTerminal(route: string, extraArgs: string[], env: Record<string, string> = {}) {
  await reset(route);
  // The PATCH fails twice with a 503: the rollback retries, then is confirmed.
  emulator.control.injectFault({ mode: 'server_error', count: 2, method: 'PATCH' });
  const run = spawnPty(
    ['rollback', '--route', route, '--to', 'spin-v1', '--relay-url', emulator.baseUrl, ...extraArgs],
    {
      env: baseEnv({ RELAY_API_KEY: KEY, TERM: 'xterm-256color', ...env }),
    },
  );
  const exit = await run.exited;
  emulator.control.clearFaults();
  return { exit, screen: run.screen() };
}

describe('a rollback retrying at a terminal', () => {
  it('spins while it retries, then prints its result', async () => {
    const { exit, screen } = await rollbackAtTerminal('spin-route', []);
    expect(exit.code, screen).toBe(0);
    expect(screen).toMatch(new RegExp(`${FRAME.source} rollback of spin-route to spin-v1 not confirmed yet`));
    expect(screen).toMatch(/rolled back spin-route: .*→ spin-v1 100%/);
    expect(screen).not.toContain(KEY);
  });

  it('draws nothing with -o plain or -o json, nor in CI', async () => {
    for (const [args, env] of [
      [['-o', 'plain'], {}],
      [['-o', 'json'], {}],
      [[], { CI: 'true' }],
    ] as const) {
      const { exit, screen } = await rollbackAtTerminal('spin-quiet', [...args], env);
      expect(exit.code, screen).toBe(0);
      expect(screen, args.join(' ')).not.toMatch(FRAME);
      expect(screen).not.toContain('not confirmed yet');
    }
  });
});

describe('Ctrl-C at the terminal while the rollback retries', () => {
  it('takes the spinner off, reads the route, says it is not rolled back and how to check: 130', async () => {
    const route = 'spin-ctrl-c';
    await reset(route);
    emulator.control.injectFault({ mode: 'server_error', count: 1000, method: 'PATCH' });
    const run = spawnPty(['rollback', '--route', route, '--to', 'spin-v1', '--relay-url', emulator.baseUrl], {
      env: baseEnv({ RELAY_API_KEY: KEY, TERM: 'xterm-256color' }),
    });
    // A person sees the spinner say it is retrying, and presses Ctrl-C (the terminal's SIGINT).
    await run.waitFor(new RegExp(`${FRAME.source} rollback of ${route} to spin-v1 not confirmed yet`));
    run.write('\u0003');
    const exit = await run.exited;
    emulator.control.clearFaults();
    const screen = run.screen();
    expect(exit.code, screen).toBe(130);
    expect(screen).toMatch(
      new RegExp(
        `interrupted \\(SIGINT\\) before the rollback of ${route} to spin-v1 was confirmed: a PATCH was sent but not confirmed`,
      ),
    );
    expect(screen).toMatch(
      /spin-v1 50%, spin-v2 50% \(revision \d+\): the rollback is not in place; exit 130/,
    );
    expect(screen).toContain(`canary rollback --route ${route} --to spin-v1 --relay-url ${emulator.baseUrl}`);
    // The spinner was taken off before the last lines: none of its frames follows them.
    expect(screen.slice(screen.indexOf('interrupted (SIGINT)'))).not.toMatch(FRAME);
    expect(emulator.control.getRoute(route)?.route_rules).toEqual(HALF);
  });
});

describe('status against a slow relay', () => {
  it('spins while the relay makes it wait, then shows the route', async () => {
    await reset('spin-status');
    // Every call waits out a 429's Retry-After of a second first: a slow relay, as a person sees it.
    emulator.control.injectFault({ mode: 'rate_limit', count: 1, retry_after_seconds: 1 });
    const slow = spawnPty(['status', '--route', 'spin-status', '--relay-url', emulator.baseUrl], {
      env: baseEnv({ RELAY_API_KEY: KEY, TERM: 'xterm-256color' }),
    });
    const slowExit = await slow.exited;
    emulator.control.clearFaults();
    expect(slowExit.code, slow.screen()).toBe(0);
    expect(slow.screen()).toMatch(new RegExp(`${FRAME.source} reading spin-status from`));
    expect(slow.screen()).toContain('spin-v1');
  });
});
