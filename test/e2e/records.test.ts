/**
 * The output contract (docs/events.md) on real output: every JSON record the built CLI writes in
 * runs against emulators (rollout events on stdout and in --output-file, the journal, status,
 * history, rollback, validate, simulate) matches its type's JSON Schema; and a journal written by
 * the previous version (3) is listed by history, reported on, and continued by a new run.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_VERSION } from '../../src/output/record.js';
import { recordsDocument } from '../../src/output/record-schemas.js';
import {
  BASELINE as BASE,
  baseEnv,
  type ExampleEmulators,
  type PlanSpec,
  pipelinePlanSpec,
  ROOT,
  runCli,
  startExampleEmulators,
  writePlanFile,
} from '../helpers/index.js';
import { parseRecords, schemaErrors } from '../output/schema-check.js';

const KEY = 'records-e2e-key-5b2d8c1f';

/** Types seen in real output. */
const seen = new Set<string>();

function checked(text: string, where: string, journal = false): Record<string, unknown>[] {
  const records = parseRecords(text);
  expect(records.length, `${where}: no records`).toBeGreaterThan(0);
  for (const record of records) {
    expect(schemaErrors(record, journal), `${where}: ${JSON.stringify(record).slice(0, 300)}`).toEqual([]);
    seen.add(String(record.type));
  }
  return records;
}

/** A gate after the second stage and one stage check, so a run makes every common record type. */
function writePlan(file: string, route: string, more: PlanSpec['more'] = {}): void {
  writePlanFile(
    file,
    pipelinePlanSpec(route, {
      stages: [10, { weight: 50, pause: true }, 100],
      more: { checks: [{ name: 'smoke', run: 'true' }], ...more },
    }),
  );
}

let emulators: ExampleEmulators;
let dir: string;
beforeAll(async () => {
  emulators = await startExampleEmulators(KEY, 23);
  dir = mkdtempSync(join(tmpdir(), 'canary-records-'));
});
afterAll(async () => {
  await emulators?.close();
  rmSync(dir, { recursive: true, force: true });
});
const env = () => baseEnv({ RELAY_API_KEY: KEY, CI: 'true' });
const state = () => join(dir, 'state');
const prompts = join(ROOT, 'examples/prompts/code-review.jsonl');

describe('every record canary writes, from real runs, matches its schema', () => {
  it('a rollout promoted through a gate, a check and an evaluation: stdout, --output-file, journal', async () => {
    writePlan(join(dir, 'healthy.yaml'), 'records-healthy', { evaluation: { prompts } });
    const file = join(dir, 'events.ndjson');
    const result = await runCli(
      ['rollout', 'healthy.yaml', '-o', 'json', '--approve-gates', '--output-file', file].concat([
        '--state-dir',
        state(),
        '--relay-url',
        emulators.healthy.baseUrl,
      ]),
      { env: env(), cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    const stdout = checked(result.stdout, 'rollout stdout');
    expect(checked(readFileSync(file, 'utf8'), '--output-file')).toEqual(stdout);
    expect(stdout.at(-1)).toMatchObject({ type: 'rollout_finished', version: RECORD_VERSION, exit_code: 0 });
    const journal = checked(
      readFileSync(join(state(), 'records-healthy.journal.ndjson'), 'utf8'),
      'journal',
      true,
    );
    expect(journal[0]).toMatchObject({
      type: 'run_started',
      version: RECORD_VERSION,
      api_key_env: 'RELAY_API_KEY',
    });
    // The journal holds the same events, without `time`.
    expect(journal.slice(1).map(({ run: _r, seq: _s, ...r }) => r)).toEqual(
      stdout.map(({ time: _t, ...r }) => r),
    );
    expect(JSON.stringify(journal) + result.stdout).not.toContain(KEY);
  }, 60_000);

  it('a failing canary rolled back, and a run held at --until-stage', async () => {
    writePlan(join(dir, 'failing.yaml'), 'records-failing');
    const failing = await runCli(
      ['rollout', 'failing.yaml', '-o', 'json', '--approve-gates', '--state-dir', state()].concat([
        '--relay-url',
        emulators.failing.baseUrl,
      ]),
      { env: env(), cwd: dir },
    );
    expect(failing.code, failing.stderr).toBe(3);
    expect(checked(failing.stdout, 'failing rollout').at(-1)).toMatchObject({ outcome: 'rolled_back' });
    writePlan(join(dir, 'held.yaml'), 'records-held', { evaluation: { prompts } });
    const held = await runCli(
      ['rollout', 'held.yaml', '-o', 'json', '--until-stage', '1', '--skip-evaluation'].concat([
        '--state-dir',
        state(),
        '--relay-url',
        emulators.healthy.baseUrl,
      ]),
      { env: env(), cwd: dir },
    );
    expect(held.code, held.stderr).toBe(0);
    expect(checked(held.stdout, 'held rollout').at(-1)).toMatchObject({ outcome: 'held' });
  }, 60_000);

  it('status, history, rollback, validate and simulate with -o json', async () => {
    const relay = ['--relay-url', emulators.healthy.baseUrl, '--state-dir', state()];
    const status = await runCli(['status', '--route', 'records-held', '-o', 'json', ...relay], {
      env: env(),
      cwd: dir,
    });
    expect(status.code, status.stderr).toBe(0);
    checked(status.stdout, 'status');
    const history = await runCli(['history', '-o', 'json', '--state-dir', state()], { env: env(), cwd: dir });
    expect(history.code, history.stderr).toBe(0);
    expect(checked(history.stdout, 'history').length).toBeGreaterThanOrEqual(3);
    const rollback = await runCli(
      ['rollback', '--route', 'records-held', '--to', BASE, '-o', 'json', '-m', 'records test', ...relay],
      { env: env(), cwd: dir },
    );
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(checked(rollback.stdout, 'rollback')[0]).toMatchObject({ reason: 'records test' });
    checked(
      readFileSync(join(state(), 'records-held.journal.ndjson'), 'utf8'),
      'journal after rollback',
      true,
    );
    const valid = await runCli(['validate', 'healthy.yaml', '-o', 'json'], { env: env(), cwd: dir });
    expect(checked(valid.stdout, 'validate')[0]).toMatchObject({ type: 'validation', valid: true });
    writeFileSync(join(dir, 'broken.yaml'), 'route: x\nstages: [50, 5]\n');
    const invalid = await runCli(['validate', 'broken.yaml', '-o', 'json'], { env: env(), cwd: dir });
    expect(invalid.code).toBe(2);
    expect(checked(invalid.stdout, 'validate, invalid')[0]).toMatchObject({ valid: false });
    const missing = await runCli(['validate', 'nope.yaml', '-o', 'json'], { env: env(), cwd: dir });
    expect(checked(missing.stdout, 'validate, no file')[0]).toMatchObject({
      valid: false,
      file: 'nope.yaml',
    });
    const simulate = await runCli(
      ['simulate', join(ROOT, 'examples/quickstart.yaml'), '--seeds', '2', '-o', 'json'],
      { env: env(), cwd: dir },
    );
    expect(simulate.code, simulate.stderr).toBe(0);
    checked(simulate.stdout, 'simulate');
  }, 120_000);

  it('canary schema records prints them all as one document that takes what the commands wrote', async () => {
    const result = await runCli(['schema', 'records'], { env: env(), cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(recordsDocument());
    const validate = new Ajv({ strict: false }).compile(JSON.parse(result.stdout));
    const journal = parseRecords(readFileSync(join(state(), 'records-healthy.journal.ndjson'), 'utf8'));
    const stream = parseRecords(readFileSync(join(dir, 'events.ndjson'), 'utf8'));
    for (const record of [...journal, ...stream])
      expect(validate(record), JSON.stringify(record).slice(0, 200)).toBe(true);
    expect(validate({ ...stream[0], stageCount: 3 })).toBe(false);
    // The default is still the plan's schema, as the build and the editors' modeline expect.
    const plan = await runCli(['schema'], { env: env(), cwd: dir });
    expect(JSON.parse(plan.stdout).title).not.toBe(recordsDocument().title);
  });

  it('saw every common record type; the rest are checked where they are made', () => {
    const elsewhere = [
      // test/output/record.test.ts writes one of every event type; these need a terminal, another
      // shell, a failing relay or metrics source, or too little traffic to happen for real here.
      'operator_action',
      'control_request',
      'control_answer', // test/e2e/control.test.ts checks its schema
      'rollback_failed',
      'metrics_error',
      'aborted',
      'run_ended',
      'log',
      'prompt_eval_skipped',
      'waiting_for_data',
      'notification', // test/notify/webhook.test.ts checks its schema
    ];
    const common = [
      'run_started',
      'rollout_started',
      'preflight',
      'prompt_eval_started',
      'prompt_eval_progress',
      'prompt_eval_finished',
      'stage_started',
      'weights_set',
      'evaluation',
      'stage_check',
      'paused',
      'gate_decision',
      'stage_passed',
      'promoted',
      'rollback_started',
      'rolled_back',
      'rollout_finished',
      'status',
      'history_run',
      'rollback',
      'validation',
      'simulation',
    ];
    expect(common.filter((t) => !seen.has(t))).toEqual([]);
    expect(elsewhere.filter((t) => common.includes(t))).toEqual([]);
  });
});

describe('a journal written by the previous version (3)', () => {
  let work: string;
  beforeAll(() => {
    work = join(dir, 'v3');
    mkdirSync(join(work, 'state'), { recursive: true });
    // As canary wrote it before this contract (journal version 3, camelCase, `v: 3`), with the
    // relay it named moved to this test's emulator: resume trusts only runs of its own relay.
    const v3 = readFileSync(join(ROOT, 'test/fixtures/journals/v3-journal-route.journal.ndjson'), 'utf8');
    writeFileSync(
      join(work, 'state', 'v3-journal-route.journal.ndjson'),
      v3.replaceAll('http://127.0.0.1:18720/v1', emulators.healthy.baseUrl),
    );
    writePlanFile(
      join(work, 'plan.yaml'),
      pipelinePlanSpec('v3-journal-route', { more: { checks: [{ name: 'smoke', run: 'true' }] } }),
    );
  });

  it('is listed by history, continued by a new run, and reported on', async () => {
    const stateDir = join(work, 'state');
    const history = await runCli(['history', '-o', 'json', '--state-dir', stateDir], {
      env: env(),
      cwd: work,
    });
    expect(history.code, history.stderr).toBe(0);
    expect(
      checked(history.stdout, 'history of a v3 journal').map((r) => [r.command, r.outcome, r.stage]),
    ).toEqual([
      ['rollout', 'promoted', 3],
      ['rollback', 'done', null],
      ['rollout', 'held', 1],
    ]);
    // The v3 run left the route at stage 1; put the emulator's route there, then continue with --yes.
    const first = await runCli(
      ['rollout', 'plan.yaml', '--until-stage', '1', '--state-dir', join(work, 'elsewhere')].concat([
        '--relay-url',
        emulators.healthy.baseUrl,
      ]),
      { env: env(), cwd: work },
    );
    expect(first.code, first.stderr).toBe(0);
    const next = await runCli(
      [
        'rollout',
        'plan.yaml',
        '--yes',
        '-o',
        'json',
        '--state-dir',
        stateDir,
        '--relay-url',
        emulators.healthy.baseUrl,
      ],
      { env: env(), cwd: work },
    );
    expect(next.code, next.stderr).toBe(0);
    // canary read the v3 run that left the route there, and says so.
    const heldRun = String(parseRecords(history.stdout)[2]?.run);
    expect(next.stderr).toContain(`the last run, ${heldRun}`);
    expect(checked(next.stdout, 'rollout after a v3 journal')[0]).toMatchObject({ start_stage: 0 });
    const again = await runCli(['history', '-o', 'json', '--state-dir', stateDir], { env: env(), cwd: work });
    const runs = checked(again.stdout, 'history of a mixed journal');
    expect(runs.map((r) => r.outcome)).toEqual(['promoted', 'done', 'held', 'promoted']);
    expect(runs[3]).toMatchObject({ resumes: heldRun, stage: 3, exit_code: 0 });
    // The report reads both: the new run from the file, and the v3 run by its id.
    const latest = await runCli(
      ['report', join(stateDir, 'v3-journal-route.journal.ndjson'), '-o', 'new.html'],
      {
        env: env(),
        cwd: work,
      },
    );
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).toMatch(/\(route v3-journal-route, promoted, 3 stages, \d+ evaluations\)/);
    const v3Run = String(parseRecords(history.stdout)[0]?.run);
    const old = await runCli(['report', v3Run, '--state-dir', stateDir, '-o', 'old.html'], {
      env: env(),
      cwd: work,
    });
    expect(old.code, old.stderr).toBe(0);
    expect(old.stdout).toMatch(/\(route v3-journal-route, promoted, 3 stages, [1-9]\d* evaluations\)/);
    expect(old.stderr).toBe('');
  }, 90_000);
});
