/**
 * The built CLI, spawned, against a real emulator on loopback: the outcomes users rely on
 * (exit codes, the route's final weights as the relay sees them, the last line of output).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../../src/emulator/index.js';
import { RECORD_VERSION } from '../../src/output/record.js';
import {
  BASELINE,
  baseEnv,
  CANARY,
  type ExampleEmulators,
  forwardTo,
  lastLine,
  type PlanSpec,
  patchRoute,
  planInTempDir,
  planYaml,
  ROOT,
  runCli,
  seedRoute,
  startExampleEmulators,
  weights,
} from '../helpers/index.js';

const KEY = 'e2e-key-7f3a9c1d5b';
// Journals and locks go to a temporary folder, not examples/.canary in the checkout.
const STATE_DIR = mkdtempSync(join(tmpdir(), 'canary-e2e-state-'));
const isolatedEnv = (extra: Record<string, string | undefined> = {}) =>
  baseEnv({ CANARY_STATE_DIR: STATE_DIR, ...extra });

describe('canary rollout (spawned) against the emulator', { concurrent: true }, () => {
  // What only a real process shows (exit codes, the last line, stdout's contents, a signal) on a
  // two-stage plan of 1 s bakes, all at once (each on its own route); how the examples themselves
  // end is judged in virtual time (test/rollout/engine-emulator.test.ts, `canary simulate` below).
  let healthy: EmulatorHandle;
  let failing: EmulatorHandle;
  const short = (route: string, spec: Partial<PlanSpec> = {}) =>
    planInTempDir({ route, stages: [50, 100], ...spec }).plan;

  let emulators: ExampleEmulators | undefined;
  beforeAll(async () => {
    emulators = await startExampleEmulators(KEY, 3);
    ({ healthy, failing } = emulators);
  });
  afterAll(async () => {
    await emulators?.close();
  });

  it('promotes a healthy canary: exit 0, route at canary 100 %, key never printed', async () => {
    const result = await runCli(
      ['rollout', short('e2e-promote'), '--relay-url', healthy.baseUrl, '--output', 'plain'],
      { env: isolatedEnv({ RELAY_API_KEY: KEY }) },
    );
    expect(result.stderr).not.toContain('internal error');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(weights(healthy, 'e2e-promote')).toEqual({ [BASELINE]: 0, [CANARY]: 100 });
    expect(lastLine(result.stdout)).toMatch(/promoted|100/i);
    expect(result.stdout + result.stderr).not.toContain(KEY);
    // Plain output is for logs: never an escape sequence.
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('rolls back a canary that breaks: exit 3, route at baseline 100 %', async () => {
    // failing.yaml breaks the canary at 25 % and above: at once at the first stage here.
    const result = await runCli(
      ['rollout', short('e2e-bad-canary'), '--relay-url', failing.baseUrl, '--output', 'plain'],
      { env: isolatedEnv({ RELAY_API_KEY: KEY }) },
    );
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(weights(failing, 'e2e-bad-canary')).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(result.stdout).toMatch(/roll(ed)? ?back/i);
    expect(lastLine(result.stdout)).toMatch(/baseline/i);
    expect(result.stdout + result.stderr).not.toContain(KEY);
  });

  it("runs on its in-process emulator with relay url 'emulator' and no key", async () => {
    const plan = short('e2e-in-process', {
      relayUrl: 'emulator',
      more: { emulator: { scenario: `${ROOT}/examples/scenarios/healthy.yaml`, rps: 2000 } },
    });
    const result = await runCli(['rollout', plan], { env: isolatedEnv() });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(lastLine(result.stdout)).toMatch(/promoted|100/i);
  });

  it('the quickstart and bad-canary examples, as written, end as their comments say (virtual time)', async () => {
    // `canary simulate` runs a plan's own engine, analysis and scenario on a fake clock: the
    // examples' 20 s of bakes in well under a second each, through the built CLI.
    for (const [example, outcome] of [
      ['quickstart', { promoted_pct: 100 }],
      ['bad-canary', { rolled_back_pct: 100, stage_decided: { '2': 1 } }],
    ] as const) {
      const result = await runCli(
        ['simulate', `examples/${example}.yaml`, '--seeds', '1', '--output', 'json'],
        {
          env: isolatedEnv(),
        },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout), example).toMatchObject(outcome);
    }
  });

  it('emits schema-versioned NDJSON with --output json and keeps stdout pure JSON', async () => {
    const result = await runCli(
      ['rollout', short('e2e-json'), '--relay-url', healthy.baseUrl, '--output', 'json'],
      { env: isolatedEnv({ RELAY_API_KEY: KEY }) },
    );
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; version: number; outcome?: string });
    expect(events.every((e) => typeof e.type === 'string' && e.version === RECORD_VERSION)).toBe(true);
    expect(events[0]?.type).toBe('rollout_started');
    const finished = events.at(-1);
    expect(finished?.type).toBe('rollout_finished');
    expect(finished?.outcome).toBe('promoted');
  });

  it('rolls back and exits 130 on SIGINT mid-rollout', async () => {
    let sent = false;
    const result = await runCli(
      ['rollout', short('e2e-sigint'), '--relay-url', healthy.baseUrl, '--output', 'json'],
      {
        env: isolatedEnv({ RELAY_API_KEY: KEY }),
        onStdout: (chunk, child) => {
          // Interrupt once the first stage's weights are confirmed on the relay.
          if (!sent && chunk.includes('"weights_set"')) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      },
    );
    expect(sent).toBe(true);
    expect(result.code, result.stderr).toBe(130);
    expect(weights(healthy, 'e2e-sigint')).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
  });
});

describe('canary rollback and status (spawned)', () => {
  let emulator: EmulatorHandle;
  const env = () => isolatedEnv({ RELAY_API_KEY: KEY, CANARY_RELAY_URL: emulator.baseUrl });

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, apiKey: KEY, rps: 500, seed: 1 });
    await seedRoute(emulator, KEY, 'ops-route', [
      { version_tag: 'ops-v1', weight: 75 },
      { version_tag: 'ops-v2', weight: 25 },
    ]);
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('rollback --route --to moves all traffic, says before → after, and is idempotent', async () => {
    const first = await runCli(['rollback', '--route', 'ops-route', '--to', 'ops-v1'], { env: env() });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('ops-v1 75%, ops-v2 25% → ops-v1 100%, ops-v2 0%');
    expect(weights(emulator, 'ops-route')).toEqual({ 'ops-v1': 100, 'ops-v2': 0 });

    const again = await runCli(['rollback', '--route', 'ops-route', '--to', 'ops-v1'], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already at ops-v1 100%/);
  });

  it('rollback plan.yaml (handed by the rollback bundle to the full CLI) restores the plan baseline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-e2e-plan-'));
    const plan = join(dir, 'ops.yaml');
    writeFileSync(
      plan,
      planYaml({
        route: 'ops-route',
        relayUrl: emulator.baseUrl,
        baseline: { version_tag: 'ops-v2' },
        canary: { version_tag: 'ops-v1' },
        stages: [50, 100],
        bake: '1m',
        analysis: { interval: '10s', window: undefined, min_requests: undefined },
      }),
    );
    const result = await runCli(['rollback', plan], { env: isolatedEnv({ RELAY_API_KEY: KEY }) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^rolled back ops-route: .* → ops-v1 0%, ops-v2 100%\n$/);
    expect(weights(emulator, 'ops-route')).toEqual({ 'ops-v1': 0, 'ops-v2': 100 });

    // A bad plan is the full CLI's plan error, reported as such: file:line:column, exit 2.
    writeFileSync(plan, 'route: ops-route\nbaseline: [1, 2]\n');
    const bad = await runCli(['rollback', plan], { env: isolatedEnv({ RELAY_API_KEY: KEY }) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${plan}:2:`);
    expect(bad.stderr).not.toContain('internal error');
  });

  it("rollback and status refuse the relay URL 'emulator', which only a rollout can start", async () => {
    for (const args of [
      ['rollback', '--route', 'ops-route', '--to', 'ops-v1'],
      ['status', '--route', 'ops-route'],
    ]) {
      const result = await runCli([...args, '--relay-url', 'emulator'], { env: env() });
      expect(result.code, args[0]).toBe(2);
      expect(result.stderr).toContain("the relay URL 'emulator' means an emulator inside this process");
    }
  });

  it('rollback reads and changes the route over one connection', async () => {
    // Counts the TCP connections canary opens: the rollback's calls share one keep-alive
    // connection (src/relay/socket-transport.ts).
    let connections = 0;
    const proxy = createServer((socket) => {
      connections++;
      forwardTo(socket, emulator.port);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      await patchRoute(emulator, KEY, 'ops-route', [
        { version_tag: 'ops-v1', weight: 50 },
        { version_tag: 'ops-v2', weight: 50 },
      ]);
      const port = (proxy.address() as AddressInfo).port;
      const result = await runCli(
        ['rollback', '--route', 'ops-route', '--to', 'ops-v1', '--relay-url', `http://127.0.0.1:${port}/v1`],
        { env: env() },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('ops-v1 50%, ops-v2 50% → ops-v1 100%, ops-v2 0%');
      expect(connections).toBe(1);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('rollback without a key names the env var and exits 2', async () => {
    const result = await runCli(['rollback', '--route', 'ops-route', '--to', 'ops-v1'], {
      env: isolatedEnv({ CANARY_RELAY_URL: emulator.baseUrl }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('RELAY_API_KEY');
  });

  it('rollback with a wrong key exits 2 (bad input, as the README files it) without printing either key', async () => {
    const result = await runCli(['rollback', '--route', 'ops-route', '--to', 'ops-v1'], {
      env: isolatedEnv({ RELAY_API_KEY: 'wrong-key-123456', CANARY_RELAY_URL: emulator.baseUrl }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/RELAY_API_KEY/);
    expect(result.stdout + result.stderr).not.toContain('wrong-key-123456');
    expect(result.stdout + result.stderr).not.toContain(KEY);
  });

  it('status shows the weights and per-version metrics, as JSON too', async () => {
    const plain = await runCli(['status', '--route', 'ops-route', '--window', '1m'], { env: env() });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('ops-v1');
    expect(plain.stdout).toContain('ops-v2');

    const json = await runCli(['status', '--route', 'ops-route', '--output', 'json'], { env: env() });
    expect(json.code, json.stderr).toBe(0);
    const snapshot = JSON.parse(json.stdout) as { route: { route_rules: unknown[] }; metrics: object };
    expect(snapshot.route.route_rules).toHaveLength(2);
    expect(Object.keys(snapshot.metrics).sort()).toEqual(['ops-v1', 'ops-v2']);
  });
});

describe('bad input (spawned)', () => {
  it('--version and --help exit 0', async () => {
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes');
  });

  it('an unknown flag or command exits 2', async () => {
    expect((await runCli(['rollout', 'examples/quickstart.yaml', '--bogus'])).code).toBe(2);
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['rollout'])).code).toBe(2);
  });

  it('a missing plan file exits 2 and names the file', async () => {
    const result = await runCli(['rollout', 'does-not-exist.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('does-not-exist.yaml');
    expect(result.stderr).not.toContain('    at ');
  });

  it('dry run prints the schedule and touches nothing', async () => {
    const result = await runCli(['rollout', 'examples/production.yaml', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/dry run/i);
    expect(result.stdout).toContain('25');
  });

  it('a plan with a gate refuses to start without a terminal or --yes', async () => {
    const result = await runCli(['rollout', 'examples/production.yaml'], {
      env: isolatedEnv({ RELAY_API_KEY: KEY }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--yes');
  });
});
