/**
 * The built CLI, spawned, against an emulator on loopback: kill -9 mid-stage then resume to
 * promotion, a second rollout of the same route refused by the lock, `canary rollback` with no
 * arguments from the journal, and `canary history` telling it all.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedEmulator } from '../../src/emulator/index.js';
import { RECORD_VERSION } from '../../src/output/record.js';
import {
  BASELINE,
  baseEnv,
  CANARY,
  journal,
  lastLine,
  runCli,
  scratch,
  startExampleEmulator,
  weights,
} from '../helpers/index.js';
import { KEY as KEYS, spawnPty } from '../helpers/pty.js';

const KEY = 'e2e-reliability-key-51c9ae';

// Each test has its own folder and route and waits on real bakes and processes: they run at once.
describe('resume, lock and journal (spawned)', { concurrent: true }, () => {
  let emulator: StartedEmulator;
  const env = () => baseEnv({ RELAY_API_KEY: KEY });

  beforeAll(async () => {
    emulator = await startExampleEmulator('healthy', { apiKey: KEY, rps: 1000, seed: 5 });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('kill -9 mid-stage, then re-run with --yes: resumes at that stage and promotes; the journal shows both runs', async () => {
    const s = scratch('resume-route');
    const { dir, route, plan } = s;
    const args = ['rollout', plan, '--relay-url', emulator.baseUrl, '--output', 'plain'];

    const killed = await runCli(args, {
      env: env(),
      cwd: dir,
      onStdout: (_chunk, child) => {
        // Killed while stage 2 bakes: no handler runs, no rollback, a stale lock is left behind.
        if (/\[check\].*\n[\s\S]*\[stage 2\/3\]/.test(killedOut.text + _chunk)) child.kill('SIGKILL');
        killedOut.text += _chunk;
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(weights(emulator, route)).toEqual({ [BASELINE]: 75, [CANARY]: 25 });

    // Without --yes and no terminal: refused, nothing changed, says what to run.
    const refused = await runCli(args, { env: env(), cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/stage 2\/3 .*was interrupted there; nothing was changed/);
    expect(refused.stderr).toMatch(/--yes/);
    // The killed run's lock was stale (its pid is gone): taken over with a warning, then released.
    expect(refused.stderr).toMatch(/taking over the lock .* no longer running/);

    const resumed = await runCli([...args, '--yes'], { env: env(), cwd: dir });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming: route resume-route is at stage 2\/3/);
    expect(weights(emulator, route)).toEqual({ [BASELINE]: 0, [CANARY]: 100 });
    expect(lastLine(resumed.stdout)).toMatch(/promoted/);
    // The resumed run never went back to 5 %.
    expect(resumed.stdout).not.toMatch(/\[stage 1\/3\]/);

    const records = journal(s);
    const headers = records.filter((r) => r.type === 'run_started');
    expect(headers).toHaveLength(2); // killed, resumed (the refused run changed nothing and wrote nothing)
    const [first, third] = headers;
    expect(third).toMatchObject({ resumes: first?.run, start_stage: 2, relay: emulator.baseUrl });
    const runOf = (h: Record<string, unknown> | undefined) =>
      records.filter((r) => r.run === h?.run).map((r) => r.type);
    expect(runOf(first)).toContain('weights_set');
    expect(runOf(first)).not.toContain('rollout_finished');
    expect(runOf(third).at(-1)).toBe('rollout_finished');
    expect(readFileSync(path.join(dir, '.canary', `${route}.journal.ndjson`), 'utf8')).not.toContain(KEY);

    const history = await runCli(['history'], { env: env(), cwd: dir });
    expect(history.code).toBe(0);
    // The killed run wrote no end; once resumed, history says so instead of "unfinished" forever.
    expect(history.stdout).toContain(
      `resume-route  interrupted (no end recorded; run ${String(headers[1]?.run)} resumed it)`,
    );
    expect(history.stdout).not.toMatch(/unfinished/);
    expect(history.stdout).toMatch(/resume-route {2}promoted {2}[\d.]+s {2}stage 3\/3/);
    expect(history.stdout).toContain(`resumed ${String(first?.run)}`);
    const json = await runCli(['history', '--output', 'json', '--route', route], { env: env(), cwd: dir });
    const rows = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.outcome)).toEqual([null, 'promoted']);
    expect(rows.map((r) => r.superseded_by)).toEqual([headers[1]?.run, null]);
    expect(rows[1]).toMatchObject({
      type: 'history_run',
      version: RECORD_VERSION,
      stage: 3,
      stage_count: 3,
      exit_code: 0,
    });
  });
  const killedOut = { text: '' };

  it('a second rollout of the same route refuses to start and touches nothing; the first is unaffected', async () => {
    const { dir, route, plan } = scratch('lock-route', { bake: '4s' });
    const args = ['rollout', plan, '--relay-url', emulator.baseUrl, '--output', 'plain', '--yes'];
    let second: Awaited<ReturnType<typeof runCli>> | undefined;
    let patchesBefore = 0;
    let started = false;
    const first = await runCli(args, {
      env: env(),
      cwd: dir,
      onStdout: (chunk) => {
        if (started || !chunk.includes('[stage 1/3]')) return;
        started = true;
        patchesBefore = emulator.control.calls().filter((c) => c.method === 'PATCH').length;
        void runCli(args, { env: env(), cwd: dir }).then((r) => {
          second = r;
        });
      },
    });
    expect(first.code, first.stderr).toBe(0);
    expect(second?.code).toBe(5);
    expect(second?.stderr).toMatch(
      /another canary rollout of route lock-route is running \(pid \d+ on .*\); nothing was changed/,
    );
    expect(second?.stdout).toBe('');
    // Every PATCH after the second started came from the first: stage 2 and stage 3, nothing else.
    const patches = emulator.control
      .calls()
      .filter((c) => c.method === 'PATCH' && (c.body as { route_id?: string })?.route_id === route);
    expect(patches.length).toBe(3);
    expect(patchesBefore).toBeGreaterThan(0);
    expect(weights(emulator, route)).toEqual({ [BASELINE]: 0, [CANARY]: 100 });
  });

  it("canary rollback with no arguments rolls back the journal's unfinished rollout, on the relay it recorded", async () => {
    const { dir, route, plan } = scratch('journal-rollback-route', { bake: '30s' });
    const killed = await runCli(['rollout', plan, '--relay-url', emulator.baseUrl, '--output', 'plain'], {
      env: env(),
      cwd: dir,
      onStdout: (chunk, child) => {
        if (chunk.includes('[weights]')) child.kill('SIGKILL');
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(weights(emulator, route)[CANARY]).toBe(5);

    const result = await runCli(['rollback'], { env: env(), cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      new RegExp(
        `rolling back ${route} to ${BASELINE} on ${emulator.baseUrl.replace(/[.]/g, '\\.')} \\(from the journal: unfinished run`,
      ),
    );
    expect(weights(emulator, route)).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
    expect(result.stdout + result.stderr).not.toContain(KEY);

    // The rollback is in the journal, and history shows it.
    const history = await runCli(['history', '--output', 'json'], { env: env(), cwd: dir });
    const rows = history.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.command)).toEqual(['rollout', 'rollback']);
    expect(rows[1]).toMatchObject({ outcome: 'done', exit_code: 0 });

    // A second journal makes the bare form ambiguous outside a terminal: it names --route.
    const { dir: other, plan: plan2 } = scratch('other-route', { bake: '1s' });
    await runCli(
      [
        'rollout',
        plan2,
        '--relay-url',
        emulator.baseUrl,
        '--output',
        'plain',
        '--state-dir',
        path.join(dir, '.canary'),
      ],
      { env: env(), cwd: other },
    );
    const ambiguous = await runCli(['rollback'], { env: env(), cwd: dir });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/2 routes could be meant; nothing was changed/);
    expect(ambiguous.stderr).toContain('--route');

    // At a terminal it asks instead (dist/rollback.cjs hands this form to the full CLI, which
    // has the prompt), and rolls back the route chosen.
    const asked = spawnPty(['rollback'], { env: { ...env(), TERM: 'xterm-256color' }, cwd: dir });
    await asked.waitFor('Roll back which route?');
    await asked.waitFor('other-route');
    const choices = asked.screen().slice(asked.screen().indexOf('Roll back which route?'));
    // The cursor starts on the first choice; move to other-route's line.
    const otherFirst = choices.indexOf('other-route') < choices.indexOf(route);
    asked.write(otherFirst ? KEYS.enter : `${KEYS.down}${KEYS.enter}`);
    expect((await asked.exited).code).toBe(0);
    expect(asked.screen()).toMatch(/rolling back other-route to/);
    expect(weights(emulator, 'other-route')).toEqual({ [BASELINE]: 100, [CANARY]: 0 });
  });
});
