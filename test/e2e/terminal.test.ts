/**
 * `canary rollout` under a real pseudo-terminal against an emulator started here: the live view,
 * each key, the Ctrl-C menu and the manual gate, judged by what the relay ends up serving
 * (the emulator's route) and by the exit code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { StartedEmulator } from '../../src/emulator/index.js';
import { baseEnv, type PlanSpec, planYaml, startExampleEmulator, until } from '../helpers/index.js';
import { KEY, type PtyRun, spawnPty } from '../helpers/pty.js';

const API_KEY = 'pty-key-4b1e8d2c9a';
const BASE = 'claude-sonnet-4-5-v1';
const CAN = 'claude-sonnet-4-5-v2';
const ROUTE = 'tui-route';

type PlanShape = Pick<PlanSpec, 'stages' | 'bake'>;

function planText(shape: PlanShape): string {
  return planYaml({ route: ROUTE, baseline: BASE, canary: CAN, analysis: { failure_limit: 2 }, ...shape });
}

const LONG: PlanShape = { stages: [10, 50, 100], bake: '10m' };
const SHORT: PlanShape = { stages: [10, 50, 100], bake: '3s' };
const GATED: PlanShape = { stages: [{ weight: 10, bake: '2s', pause: true }, { weight: 100 }], bake: '2s' };

// Real rollouts in real time: each test takes seconds; the cap only stops a hung one.
vi.setConfig({ testTimeout: 120_000 });

/** One test's rollout under a pty and its own emulator, folder and route weights. */
interface Tui {
  emulator: StartedEmulator;
  start(shape: PlanShape): PtyRun;
  canaryWeight(): number | undefined;
  weightBecomes(weight: number): Promise<void>;
  routeReads(): number;
}

/**
 * A fresh emulator and folder for one test, closed (and its rollout killed) when the test ends:
 * each test owns its relay, so the tests, which wait on real bakes and keys, run at once.
 */
async function openTui(onTestFinished: (fn: () => Promise<void>) => void): Promise<Tui> {
  const dir = mkdtempSync(join(tmpdir(), 'canary-pty-'));
  const emulator = await startExampleEmulator('healthy', { apiKey: API_KEY, rps: 1000, seed: 11 });
  let run: PtyRun | undefined;
  onTestFinished(async () => {
    run?.kill();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const canaryWeight = () =>
    emulator.control.getRoute(ROUTE)?.route_rules.find((r) => r.version_tag === CAN)?.weight;
  return {
    emulator,
    start(shape) {
      const file = join(dir, 'plan.yaml');
      writeFileSync(file, planText(shape));
      run = spawnPty(['rollout', file, '--relay-url', emulator.baseUrl], {
        env: baseEnv({ RELAY_API_KEY: API_KEY, TERM: 'xterm-256color' }),
      });
      return run;
    },
    canaryWeight,
    async weightBecomes(weight) {
      await until(`canary at ${weight} %`, () => canaryWeight() === weight);
    },
    routeReads: () =>
      emulator.control.calls().filter((c) => c.method === 'GET' && c.path === `/v1/routes/traffic/${ROUTE}`)
        .length,
  };
}

/** Live and judged: the footer is drawn and the first evaluation passed. */
async function live(r: PtyRun): Promise<void> {
  await r.waitFor('keys: p promote · h hold · r roll back · q quit · Ctrl-C menu');
  await r.waitFor('checks pass');
}

describe('live view and keys', { concurrent: true }, () => {
  it('renders the table and footer; p ends each bake once the checks pass, and the canary is promoted', async ({
    onTestFinished,
  }) => {
    const tui = await openTui(onTestFinished);
    const r = tui.start(LONG);
    await live(r);
    const screen = r.screen();
    expect(screen).toContain(`canary ${ROUTE}`);
    expect(screen).toContain('stage 1/3');
    expect(screen).toMatch(/version\s.*weight/);
    expect(tui.canaryWeight()).toBe(10);
    r.write('p');
    await tui.weightBecomes(50);
    await r.waitFor('[operator] promote');
    const mark = r.mark();
    await r.waitFor('checks pass', { from: mark });
    r.write('p');
    const exit = await r.exited;
    expect(exit.code, r.screen()).toBe(0);
    expect(tui.canaryWeight()).toBe(100);
    expect(r.screen()).toContain('✓ promoted');
    expect(r.screen()).not.toContain(API_KEY);
  });

  it('h holds past the bake while checks keep running, h again releases; q (confirmed) leaves traffic and exits 130', async ({
    onTestFinished,
  }) => {
    const tui = await openTui(onTestFinished);
    const r = tui.start(SHORT);
    await live(r);
    r.write('h');
    await r.waitFor('HELD by you');
    await r.waitFor('[operator] hold');
    await r.waitFor('bake 3s/3s (0s left)');
    // Several checks after the bake ended, each of which would have moved a stage not held.
    const reads = tui.routeReads();
    await until('three more checks', () => tui.routeReads() >= reads + 3);
    expect(tui.canaryWeight()).toBe(10);
    r.write('h');
    await tui.weightBecomes(50);
    await r.waitFor('[operator] release');
    const mark = r.mark();
    r.write('h'); // hold stage 2 as well, then quit from there
    await r.waitFor('HELD by you', { from: mark });
    r.write('q');
    await r.waitFor('Quit and leave traffic at');
    r.write('y');
    r.write(KEY.enter);
    const exit = await r.exited;
    expect(exit.code, r.screen()).toBe(130);
    expect(tui.canaryWeight()).toBe(50);
    expect(r.screen()).toMatch(/stopped by the operator; traffic left at stage 2\/3/);
  });

  it('r rolls back now: exit 3, the baseline at 100 %', async ({ onTestFinished }) => {
    const tui = await openTui(onTestFinished);
    const r = tui.start(LONG);
    await live(r);
    r.write('r');
    const exit = await r.exited;
    expect(exit.code, r.screen()).toBe(3);
    expect(tui.canaryWeight()).toBe(0);
    expect(r.screen()).toContain('rolled back at stage 1/3: the operator asked (r key)');
  });

  it('q answered "no" changes nothing and the live view comes back', async ({ onTestFinished }) => {
    const tui = await openTui(onTestFinished);
    const r = tui.start(LONG);
    await live(r);
    r.write('q');
    await r.waitFor('Quit and leave traffic at');
    const mark = r.mark();
    r.write('n');
    r.write(KEY.enter);
    await r.waitFor('keys: p promote', { from: mark });
    expect(tui.canaryWeight()).toBe(10);
    r.write('r');
    expect((await r.exited).code).toBe(3);
  });
});

describe('Ctrl-C menu', { concurrent: true }, () => {
  it('roll back now: exit 130, route at the baseline', async ({ onTestFinished }) => {
    const tui = await openTui(onTestFinished);
    const r = tui.start(LONG);
    await live(r);
    r.write(KEY.ctrlC);
    await r.waitFor('Interrupted at stage 1/3');
    r.write(KEY.enter); // "roll back now" is first
    const exit = await r.exited;
    expect(exit.code, r.screen()).toBe(130);
    expect(tui.canaryWeight()).toBe(0);
  });

  it('leave traffic: exit 130, the canary still at the stage, and the output says so', async ({
    onTestFinished,
  }) => {
    const tui = await openTui(onTestFinished);
    const r = tui.start(LONG);
    await live(r);
    r.write(KEY.ctrlC);
    await r.waitFor('Interrupted at stage 1/3');
    r.write(KEY.down);
    r.write(KEY.enter);
    const exit = await r.exited;
    expect(exit.code, r.screen()).toBe(130);
    expect(tui.canaryWeight()).toBe(10);
    expect(r.screen()).toMatch(/traffic left at stage 1\/3 \(canary 10% \/ baseline 90%\)/);
    expect(r.screen()).toContain('canary rollback');
  });

  it('continue: the rollout goes on to promotion', async ({ onTestFinished }) => {
    const tui = await openTui(onTestFinished);
    const r = tui.start(SHORT);
    await live(r);
    r.write(KEY.ctrlC);
    await r.waitFor('Interrupted at stage 1/3');
    r.write(KEY.down);
    r.write(KEY.down);
    r.write(KEY.enter);
    const exit = await r.exited;
    expect(exit.code, r.screen()).toBe(0);
    expect(tui.canaryWeight()).toBe(100);
  });

  it('a second Ctrl-C while the menu is open rolls back at once', async ({ onTestFinished }) => {
    const tui = await openTui(onTestFinished);
    const r = tui.start(LONG);
    await live(r);
    r.write(KEY.ctrlC);
    await r.waitFor('Interrupted at stage 1/3');
    r.write(KEY.ctrlC);
    const exit = await r.exited;
    expect(exit.code, r.screen()).toBe(130);
    expect(tui.canaryWeight()).toBe(0);
  });
});

describe('manual gate', { concurrent: true }, () => {
  async function atGate(tui: Tui): Promise<PtyRun> {
    const r = tui.start(GATED);
    await r.waitFor('Manual gate: what next?');
    // The prompt shows the verdicts and the values behind them.
    expect(r.screen()).toMatch(/Stage 1\/2 \(canary 10%?\s?%?\) passed its bake: checks pass/);
    expect(r.screen()).toMatch(/✓ error_rate [\d.]+% ≤ 5\.00%/);
    expect(tui.canaryWeight()).toBe(10);
    return r;
  }

  it('promote: on to the next stage and promoted', async ({ onTestFinished }) => {
    const tui = await openTui(onTestFinished);
    const r = await atGate(tui);
    r.write(KEY.enter);
    expect((await r.exited).code, r.screen()).toBe(0);
    expect(tui.canaryWeight()).toBe(100);
  });

  it('roll back: exit 3, the baseline at 100 %', async ({ onTestFinished }) => {
    const tui = await openTui(onTestFinished);
    const r = await atGate(tui);
    r.write(KEY.down);
    r.write(KEY.enter);
    expect((await r.exited).code, r.screen()).toBe(3);
    expect(tui.canaryWeight()).toBe(0);
  });

  it('keep holding: the stage stays with checks running until p', async ({ onTestFinished }) => {
    const tui = await openTui(onTestFinished);
    const r = await atGate(tui);
    r.write(KEY.down);
    r.write(KEY.down);
    r.write(KEY.enter);
    await r.waitFor('holding at the manual gate');
    const reads = tui.routeReads();
    await until('two more checks', () => tui.routeReads() >= reads + 2);
    expect(tui.canaryWeight()).toBe(10);
    r.write('p');
    expect((await r.exited).code, r.screen()).toBe(0);
    expect(tui.canaryWeight()).toBe(100);
  });

  it('a check failing while the prompt is open rolls back and withdraws the prompt', async ({
    onTestFinished,
  }) => {
    const tui = await openTui(onTestFinished);
    const r = await atGate(tui);
    tui.emulator.control.setBehaviour(CAN, { error_rate: 0.6 });
    const exit = await r.exited;
    expect(exit.code, r.screen()).toBe(3);
    expect(tui.canaryWeight()).toBe(0);
    expect(r.screen()).toMatch(/rolled back at stage 1\/2/);
  });
});
