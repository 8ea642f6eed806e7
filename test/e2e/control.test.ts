/**
 * Operating a rollout from another shell, end to end: `canary emulator` runs as a process of
 * its own, `canary rollout deploy/canary.yaml` runs from a repo root (the README's CI layout),
 * and promote, pause, resume, abort, status and `status --wait` are separate processes started
 * from the same folder. What counts is what the relay ends up serving, the exit codes, and the
 * journal: who asked, why, and that the run acted within a second of being asked.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  BIN,
  baseEnv,
  type EmulatorProcess,
  type PlanSpec,
  ROOT,
  runCli,
  startEmulatorProcess,
  until,
  writePlanFile,
} from '../helpers/index.js';
import { schemaErrors } from '../output/schema-check.js';

const KEY = 'control-key-5d2b8e1f';
const BASE = 'ctl-v1';
const CAN = 'ctl-v2';

vi.setConfig({ testTimeout: 120_000 });

let emulator: EmulatorProcess;

beforeAll(async () => {
  emulator = await startEmulatorProcess({ apiKey: KEY, scenario: `${ROOT}/examples/scenarios/healthy.yaml` });
});
afterAll(async () => {
  await emulator.stop();
});

type Record_ = { type: string; at: number; [k: string]: unknown };

interface Started {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * One test's repository: a folder of its own (its .canary state folder is where the control
 * commands look, so tests do not see each other's rollouts), removed when the test ends.
 */
function repoFor(onTestFinished: (fn: () => void) => void) {
  const repo = mkdtempSync(path.join(tmpdir(), 'canary-control-'));
  mkdirSync(path.join(repo, 'deploy'));
  let rollout: ChildProcess | undefined;
  onTestFinished(() => {
    if (rollout && rollout.exitCode === null) rollout.kill('SIGKILL');
    rmSync(repo, { recursive: true, force: true });
  });
  const env = () => baseEnv({ RELAY_API_KEY: KEY, HOME: repo });

  function writePlan(route: string, stages: PlanSpec['stages'] = [10, 50, 100], bake = '10m'): void {
    writePlanFile(path.join(repo, 'deploy', 'canary.yaml'), {
      route,
      relayUrl: emulator.baseUrl,
      baseline: BASE,
      canary: CAN,
      stages,
      bake,
    });
  }

  /** `canary rollout deploy/canary.yaml` from the repo root, in the background. */
  function startRollout(
    route: string,
    extra: string[] = [],
    plan?: { stages: PlanSpec['stages']; bake: string },
  ): Started {
    writePlan(route, plan?.stages, plan?.bake);
    const child = spawn(
      process.execPath,
      [BIN, 'rollout', 'deploy/canary.yaml', '--output', 'plain', ...extra],
      {
        cwd: repo,
        env: env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    rollout = child;
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    return {
      done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))),
    };
  }

  function journal(route: string): Record_[] {
    try {
      return readFileSync(path.join(repo, '.canary', `${route}.journal.ndjson`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record_);
    } catch {
      return [];
    }
  }

  return {
    repo,
    writePlan,
    startRollout,
    journal,
    /** Waits until the journal holds a record matching `test`; returns it. */
    recorded: (route: string, what: string, test: (r: Record_) => boolean): Promise<Record_> =>
      until(what, () => journal(route).find(test)),
    cli: (args: string[]) => runCli(args, { cwd: repo, env: env() }),
    pid: () => rollout?.pid,
  };
}

// Each test is a repository of its own with its own route, waiting on real bakes and other
// processes: they run at once.
describe('control commands from another shell', { concurrent: true }, () => {
  it('pause, resume and promote --full reach the running rollout within a second; status shows it live; status --wait returns its exit code', async ({
    onTestFinished,
  }) => {
    const { repo, startRollout, journal, recorded, cli, pid } = repoFor(onTestFinished);
    const route = 'ctl-promote';
    const run = startRollout(route);
    await recorded(route, 'a passing evaluation', (r) => r.type === 'evaluation');

    const waiting = cli(['status', '--route', route, '--wait']);

    const paused = await cli(['pause', '-m', 'checking the dashboards']);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain('done: holding at stage 1/3');
    const asked = await recorded(route, 'the pause request', (r) => r.type === 'control_request');
    expect(asked).toMatchObject({
      action: 'pause',
      reason: 'checking the dashboards',
      user: userInfo().username,
    });
    expect(typeof asked.pid).toBe('number');
    const held = await recorded(
      route,
      'the hold',
      (r) => r.type === 'operator_action' && r.action === 'hold',
    );
    expect(held.at - asked.at).toBeLessThan(1000);

    const status = await cli(['status', '--route', route]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/rollout in progress: stage 1\/3 · canary 10% · bake \S+ of 10m/);
    expect(status.stdout).toContain('PAUSED');
    expect(status.stdout).toMatch(/last check \d\d:\d\d:\d\dZ .*: pass/);
    expect(status.stdout).toContain(`pid ${pid()}`); // who runs it
    expect(status.stdout).toContain(`canary resume --route ${route}`);
    const json = await cli(['status', '--route', route, '--output', 'json']);
    expect(JSON.parse(json.stdout).rollout).toMatchObject({
      stage: 1,
      stage_count: 3,
      weight: 10,
      held: true,
    });

    const again = await cli(['pause']);
    expect(again.stdout).toContain('already paused at stage 1/3');

    const resumed = await cli(['resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('released stage 1/3');

    const promoted = await cli(['promote', '--full', '--route', route, '--output', 'json']);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(JSON.parse(promoted.stdout)).toMatchObject({
      type: 'control_answer',
      action: 'promote',
      ok: true,
    });
    expect(schemaErrors(JSON.parse(promoted.stdout))).toEqual([]); // docs/events.md's contract
    const result = await run.done;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await emulator.weights(route)).toEqual({ [BASE]: 0, [CAN]: 100 });
    // Every later stage left at its first passing check: no 10-minute bake anywhere.
    expect(journal(route).filter((r) => r.type === 'stage_passed')).toHaveLength(3);
    // The state folder in the first and the last line.
    const first = result.stderr.split('\n')[0];
    expect(first).toBe(`state folder ${path.join(repo, '.canary')} (new .canary/ in the current folder)`);
    expect(result.stderr).toContain(`journal: state folder ${path.join(repo, '.canary')}`);

    const waited = await waiting;
    expect(waited.code, waited.stdout + waited.stderr).toBe(0);
    expect(waited.stdout).toContain(`${route} ended: promoted`);

    // Afterwards: no rollout to reach (exit 6), and --wait reports the last one's code at once.
    expect((await cli(['pause', '--route', route])).code).toBe(6);
    expect((await cli(['status', '--route', route, '--wait'])).code).toBe(0);
  });

  it('abort -m rolls back now (the rollout exits 3); the reason reaches the journal and history; bare rollback and history from the repo root find the run', async ({
    onTestFinished,
  }) => {
    const { startRollout, recorded, cli } = repoFor(onTestFinished);
    const route = 'ctl-abort';
    const run = startRollout(route);
    await recorded(route, 'a passing evaluation', (r) => r.type === 'evaluation');
    const waiting = cli(['status', '--route', route, '--wait', '--timeout', '2m']);

    const aborted = await cli(['abort', '-m', 'customers report bad answers']);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(aborted.stdout).toMatch(
      /done: rolled back at stage 1\/3: .* asked \(canary abort\): customers report bad answers/,
    );
    const asked = await recorded(route, 'the abort request', (r) => r.type === 'control_request');
    const started = await recorded(route, 'the rollback', (r) => r.type === 'rollback_started');
    expect(started.at - asked.at).toBeLessThan(1000);
    expect(String(started.reason)).toContain('customers report bad answers');

    const result = await run.done;
    expect(result.code).toBe(3);
    expect(await emulator.weights(route)).toEqual({ [BASE]: 100, [CAN]: 0 });
    expect((await waiting).code).toBe(3);

    const history = await cli(['history']);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain(route);
    expect(history.stdout).toContain('abort by');
    expect(history.stdout).toContain('customers report bad answers');

    // The incident command from the repo root finds the run in the same state folder.
    const back = await cli(['rollback', '-m', 'belt and braces']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toContain(`rolling back ${route} to ${BASE}`);
    const after = await cli(['history', '--route', route]);
    expect(after.stdout).toContain('reason: belt and braces');
  });

  it('with no rollout running: every control command exits 6 and says where it looked', async ({
    onTestFinished,
  }) => {
    const { repo, cli } = repoFor(onTestFinished);
    for (const verb of ['promote', 'pause', 'resume', 'abort']) {
      const result = await cli([verb]);
      expect(result.code, `${verb}: ${result.stderr}`).toBe(6);
      expect(result.stderr).toContain('no rollout is running');
      expect(result.stderr).toContain(path.join(repo, '.canary'));
    }
    const wait = await cli(['status', '--route', 'never-ran', '--wait']);
    expect(wait.code).toBe(6);
  });
});

describe('the README quickstart, then the incident commands from the repo root', { concurrent: true }, () => {
  it('finds the run: history lists it, bare rollback names it', async ({ onTestFinished }) => {
    const { repo } = repoFor(onTestFinished);
    // A copy of the repository's examples, run exactly as the README says, from its root.
    const { cpSync } = await import('node:fs');
    cpSync(path.join(ROOT, 'examples'), path.join(repo, 'examples'), { recursive: true });
    const quick = await runCli(
      ['rollout', 'examples/quickstart.yaml', '--until-stage', '1', '--output', 'plain'],
      {
        cwd: repo,
        env: baseEnv({ HOME: repo }),
      },
    );
    expect(quick.code, quick.stdout + quick.stderr).toBe(0);
    const history = await runCli(['history'], { cwd: repo, env: baseEnv({ HOME: repo }) });
    expect(history.stdout).toContain('code-review-quickstart');
    expect(history.stdout).not.toContain('traffic: unknown');
    const back = await runCli(['rollback'], { cwd: repo, env: baseEnv({ HOME: repo }) });
    // Found (not "no rollout recorded"): its relay was the emulator inside that run, gone with it.
    expect(back.stderr).toContain('in-process emulator');
    expect(back.stderr).not.toContain('no rollout');
  });
});

describe('canary rollout takes --api-key-env and --api-key-file, as the missing-key hint says', {
  concurrent: true,
}, () => {
  it('a key from the named env var or from the key file gets past pre-flight; a wrong one in the file exits 2', async ({
    onTestFinished,
  }) => {
    const { repo, writePlan } = repoFor(onTestFinished);
    writePlan('ctl-keys');
    const args = ['rollout', 'deploy/canary.yaml', '--output', 'plain', '--timeout', '3s'];
    const none = await runCli(args, { cwd: repo, env: baseEnv({ HOME: repo }) });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--api-key-file');

    const fromEnv = await runCli([...args, '--api-key-env', 'MY_RELAY_KEY'], {
      cwd: repo,
      env: baseEnv({ HOME: repo, MY_RELAY_KEY: KEY }),
    });
    expect(fromEnv.stdout).toContain('[stage 1/3]');
    expect(fromEnv.code, fromEnv.stderr).toBe(5); // the --timeout, after stage 1 began

    writeFileSync(path.join(repo, 'relay.key'), `${KEY}\n`, { mode: 0o600 });
    const fromFile = await runCli([...args, '--api-key-file', 'relay.key'], {
      cwd: repo,
      env: baseEnv({ HOME: repo, RELAY_API_KEY: 'not-this-one' }), // a file named on the command line wins
    });
    expect(fromFile.stdout).toContain('[stage 1/3]');
    expect(fromFile.code, fromFile.stderr).toBe(5);

    writeFileSync(path.join(repo, 'wrong.key'), 'wrong-key-0000\n', { mode: 0o600 });
    const wrong = await runCli([...args, '--api-key-file', 'wrong.key'], {
      cwd: repo,
      env: baseEnv({ HOME: repo }),
    });
    expect(wrong.code).toBe(2);
    for (const r of [none, fromEnv, fromFile, wrong]) expect(r.stdout + r.stderr).not.toContain(KEY);
  });
});

describe('rollout --wait-at-gates: a gate in CI answered by canary promote from another job', {
  concurrent: true,
}, () => {
  it('without it a gated plan is refused (exit 2); with it the gate holds until promote, then the canary ships', async ({
    onTestFinished,
  }) => {
    const { writePlan, startRollout, recorded, cli } = repoFor(onTestFinished);
    const stages = [{ weight: 10, bake: '2s', pause: true }, { weight: 100 }];
    writePlan('ctl-gate', stages, '2s');
    const refused = await cli(['rollout', 'deploy/canary.yaml', '--output', 'plain']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--wait-at-gates');

    const run = startRollout('ctl-gate', ['--wait-at-gates', '--timeout', '2m'], { stages, bake: '2s' });
    const paused = await recorded('ctl-gate', 'the gate', (r) => r.type === 'paused');
    // Held: more checks pass, nothing moves, until someone answers.
    await recorded(
      'ctl-gate',
      'a check after the gate opened',
      (r) => r.type === 'evaluation' && r.at > paused.at + 1500,
    );
    expect(await emulator.weights('ctl-gate')).toEqual({ [BASE]: 90, [CAN]: 10 });
    const status = await cli(['status', '--route', 'ctl-gate']);
    expect(status.stdout).toContain('at its manual gate');

    const promoted = await cli(['promote', '-m', 'smoke tests green']);
    expect(promoted.code, promoted.stderr).toBe(0);
    const result = await run.done;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain('canary promote --route ctl-gate');
    expect(await emulator.weights('ctl-gate')).toEqual({ [BASE]: 0, [CAN]: 100 });
  });
});
