/**
 * The one record writer (src/output/record.ts) and the records' JSON Schemas: one event of every
 * type, as the engine spells it, written by the JSON reporter and the journal, matches its
 * schema and reads back as it was; docs/events.md names every type and field; journals of the
 * versions before (1 and 3, as those versions wrote them) are still read.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { JournalWriter, journalPath } from '../../src/journal/journal.js';
import { readJournal } from '../../src/journal/reader.js';
import { summarizeRuns } from '../../src/journal/run-summary.js';
import { fromRecord, RECORD_VERSION, recordLine, toRecord } from '../../src/output/record.js';
import {
  COMMAND_TYPES,
  EVENT_TYPES,
  JOURNAL_TYPES,
  recordSchemas,
  recordsDocument,
} from '../../src/output/record-schemas.js';
import { buildReportModel } from '../../src/report/build-model.js';
import { toJsonLine } from '../../src/reporters/json.js';
import type { RolloutEvent, RolloutEventType } from '../../src/rollout/events.js';
import { promotedRun, rolledBackRun, waitingRun } from '../reporters/helpers.js';
import { schemaErrors } from './schema-check.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const schemas = recordSchemas();

const rules = [
  { version_tag: 'v1', weight: 90 },
  { version_tag: 'v2', weight: 10 },
];
const metrics = (tag: string) => ({
  version_tag: tag,
  start_time: '2026-12-03T10:00:00.000Z',
  end_time: '2026-12-03T10:00:02.000Z',
  request_count: 200,
  error_count: 1,
  error_rate: 0.005,
  latency_p50_ms: 400,
  latency_p99_ms: 1500,
  cost_per_token: 0.00001,
});

/** One event of every type, spelled as the engine emits them; the type forces a new one in. */
const ONE_OF_EACH: { [T in RolloutEventType]: Extract<RolloutEvent, { type: T }> } = {
  rollout_started: {
    type: 'rollout_started',
    at: 1,
    route: 'r',
    baseline: 'v1',
    canary: 'v2',
    stages: [{ weight: 10, bakeMs: 1000, pause: true }],
    relay: 'http://127.0.0.1:1/v1',
    metricsSource: 'relay',
    startStage: 0,
    plan: { route: 'r', notify: [{ url: '(secret: not recorded)' }], parameters: { topK: 3 } },
    run_by: { user: 'ana', host: 'box', pid: 7, ci: null, github: { run_id: '1' } },
  },
  preflight: { type: 'preflight', at: 2, step: 'relay', detail: 'relay reachable' },
  stage_started: {
    type: 'stage_started',
    at: 3,
    stage: 0,
    stageCount: 1,
    weight: 10,
    bakeMs: 1000,
    pause: true,
    rules,
  },
  weights_set: { type: 'weights_set', at: 4, stage: 0, rules, revision: 2 },
  evaluation: {
    type: 'evaluation',
    at: 5,
    stage: 0,
    evaluation: {
      at: 5,
      windowStart: 1,
      windowEnd: 5,
      canary: metrics('v2'),
      baseline: metrics('v1'),
      canaryRequests: 200,
      minRequests: 20,
      checks: [
        {
          id: 'error_rate.vs_baseline',
          metric: 'error_rate',
          kind: 'comparison',
          status: 'pass',
          value: 0.005,
          baseline: 0.005,
          bound: 0.01,
          reason: 'fine',
          pValue: 0.4,
          confidence: 0.99,
          test: 'exact',
          alpha: 0.01,
        },
      ],
      verdict: 'pass',
      custom: [
        {
          id: 'score.min',
          metric: 'score',
          rule: 'min',
          status: 'pass',
          dry_run: false,
          value: 0.9,
          baseline: 0.9,
          bound: 0.8,
          reason: 'fine',
          p_value: 0.5,
          alpha: 0.01,
          confidence: 0.99,
          test: 'paired t over 4 windows (log ratio)',
        },
      ],
      pooled: { canary_requests: 200, baseline_requests: 1800, canary_errors: 1, baseline_errors: 9 },
      error_control: {
        rollout_confidence: 0.99,
        stage_confidence: 0.995,
        look_alpha: 0.001,
        bake_fraction: 0.5,
        spent_fraction: 0.4,
        extra_looks: 0,
        tests_per_stage: 4,
        judged_stages: 3,
        custom_tests_per_stage: 1,
      },
    },
    consecutiveFailures: 0,
    failureLimit: 2,
    bakeElapsedMs: 500,
    bakeMs: 1000,
    nextCheckAt: 6,
  },
  waiting_for_data: {
    type: 'waiting_for_data',
    at: 6,
    stage: 0,
    requests: 5,
    minRequests: 20,
    deadlineAt: 60,
    needs: 'canary requests 5/20',
  },
  metrics_error: { type: 'metrics_error', at: 7, stage: 0, message: 'HTTP 503', consecutive: 1, limit: 3 },
  stage_check: {
    type: 'stage_check',
    at: 8,
    stage: 0,
    check: { name: 'smoke', status: 'fail', exitCode: null, timedOut: true, durationMs: 30, output: '' },
  },
  stage_passed: { type: 'stage_passed', at: 9, stage: 0, weight: 10 },
  paused: { type: 'paused', at: 10, stage: 0, weight: 10 },
  gate_decision: { type: 'gate_decision', at: 11, stage: 0, decision: 'hold', by: '--approve-gates' },
  operator_action: { type: 'operator_action', at: 12, stage: 0, action: 'hold', detail: 'holding' },
  control_request: {
    type: 'control_request',
    at: 13,
    action: 'promote',
    full: true,
    reason: 'looks good',
    user: 'ana',
    host: 'box',
    pid: 8,
  },
  rollback_started: {
    type: 'rollback_started',
    at: 14,
    stage: 0,
    cause: 'shared_incident',
    reason: 'both over',
    to: rules,
  },
  rolled_back: { type: 'rolled_back', at: 15, rules, revision: 3, durationMs: 40 },
  rollback_failed: { type: 'rollback_failed', at: 16, message: 'HTTP 500', manualCommand: 'curl …' },
  promoted: { type: 'promoted', at: 17, rules },
  aborted: { type: 'aborted', at: 18, stage: 0, reason: 'drift', rules: null },
  rollout_finished: {
    type: 'rollout_finished',
    at: 19,
    outcome: 'rejected',
    exitCode: 3,
    route: 'r',
    traffic: null,
    summary: 'rejected',
    next: 'fix it',
  },
  log: { type: 'log', at: 20, level: 'warn', message: 'careful' },
  prompt_eval_started: {
    type: 'prompt_eval_started',
    at: 21,
    baseline: 'v1',
    canary: 'v2',
    prompts: 1,
    repeat: 1,
    requests_per_version: 1,
    concurrency: 1,
    judge: false,
  },
  prompt_eval_progress: { type: 'prompt_eval_progress', at: 22, done: 1, total: 2 },
  prompt_eval_finished: {
    type: 'prompt_eval_finished',
    at: 23,
    report: {
      verdict: 'pass',
      prompts: 1,
      repeat: 1,
      requests_per_version: 1,
      duration_ms: 10,
      baseline: stats('v1'),
      canary: { ...stats('v2'), agreement: 0.8, judge_score: null },
      checks: [
        {
          id: 'success_rate.min',
          metric: 'success_rate',
          rule: 'min',
          status: 'pass',
          value: 1,
          baseline: 1,
          bound: 0.95,
          reason: 'fine',
        },
      ],
      worst: [
        {
          prompt_id: 'p1',
          file: 'p.jsonl',
          line: 1,
          repeat: 0,
          prompt: 'hi',
          baseline: 'a',
          canary: 'b',
          why: 'low agreement',
          agreement: 0.8,
          judge_score: null,
        },
      ],
      per_prompt: [
        {
          prompt_id: 'p1',
          file: 'p.jsonl',
          line: 1,
          repeats: 1,
          baseline: { answered: 1, latency_ms: 10, output_tokens: 5, expect_checked: 1, expect_met: 1 },
          canary: {
            answered: 0,
            error: 'HTTP 502',
            latency_ms: null,
            output_tokens: null,
            expect_checked: 0,
            expect_met: 0,
            failures: ['no answer'],
          },
          agreement: null,
          judge_score: null,
        },
      ],
      per_prompt_left_out: 0,
      summary: 'passed',
    },
  },
  prompt_eval_skipped: { type: 'prompt_eval_skipped', at: 24, reason: 'flag', detail: '--skip-evaluation' },
};

function stats(tag: string) {
  return {
    version_tag: tag,
    requests: 1,
    success_rate: 1,
    expectation_pass_rate: 1,
    expectation_checked: 1,
    latency_p50_ms: 10,
    latency_p99_ms: 10,
    ttft_p50_ms: null,
    ttft_p99_ms: null,
    output_tokens: 5,
    cost_per_answer: null,
  };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every key at every depth, outside maps whose keys are data (the plan as written, tags). */
function keysOf(value: unknown, skip: ReadonlySet<string>): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => keysOf(v, skip));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...(skip.has(k) ? [] : keysOf(v, skip))]);
}

describe('the one record writer', () => {
  const events = Object.values(ONE_OF_EACH) as RolloutEvent[];

  it('writes every event type with type and version first, snake_case keys, and its schema', () => {
    for (const event of events) {
      const line = toJsonLine(event);
      expect(line.startsWith(`{"type":"${event.type}","version":${RECORD_VERSION},`)).toBe(true);
      const record = JSON.parse(line) as Record<string, unknown>;
      expect(schemaErrors(record), line).toEqual([]);
      expect(keysOf(record, new Set(['plan'])).filter((k) => !/^[a-z][a-z0-9_]*$/.test(k))).toEqual([]);
    }
    // Data is not renamed: the plan as written keeps its keys.
    const started = JSON.parse(toJsonLine(ONE_OF_EACH.rollout_started));
    expect(started.plan.parameters).toEqual({ topK: 3 });
  });

  it('journals the same records with run and seq, and reads them back as the engine emitted them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-records-'));
    dirs.push(dir);
    const writer = new JournalWriter(
      { stateDir: dir, route: 'r', redact: (t) => t, warn: () => {} },
      {
        command: 'rollout',
        at: 0,
        route: 'r',
        relay: 'http://127.0.0.1:1/v1',
        apiKeyEnv: 'RELAY_API_KEY',
        planHash: 'abc',
        inProcessEmulator: false,
        rollbackDeadlineMs: 120_000,
        startStage: 1,
      },
    );
    for (const event of events) writer.append(event);
    writer.append({ type: 'run_ended', at: 30, exitCode: 3, message: 'done' });
    writer.close();
    const file = journalPath(dir, 'r');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    lines.forEach((line, seq) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(record).slice(0, 4)).toEqual(['type', 'version', 'run', 'seq']);
      expect(record.seq).toBe(seq);
      expect(schemaErrors(record, true), line).toEqual([]);
    });
    const back = readJournal(file);
    expect(back[0]).toMatchObject({ v: RECORD_VERSION, apiKeyEnv: 'RELAY_API_KEY', startStage: 1 });
    const bodies = back.slice(1, -1).map(({ run: _r, seq: _s, v: _v, ...body }) => body);
    expect(bodies).toEqual(JSON.parse(JSON.stringify(events)));
    expect(back.at(-1)).toMatchObject({ type: 'run_ended', exitCode: 3 });
  });

  it('ignores a type or version in the body, and leaves undefined fields out', () => {
    expect(toRecord('rollback', { type: 'x', version: 9, route: 'r', revision: undefined })).toEqual({
      type: 'rollback',
      version: RECORD_VERSION,
      route: 'r',
    });
    expect(recordLine('log', { level: 'info' })).toBe(
      `{"type":"log","version":${RECORD_VERSION},"level":"info"}\n`,
    );
  });

  it('reads a record of an older journal (camelCase, v) as it was written', () => {
    const old = { v: 3, run: 'r', seq: 0, type: 'run_ended', at: 1, exitCode: 2, message: 'm' };
    expect(fromRecord(old)).toBe(old);
  });
});

describe('the schemas and docs/events.md', () => {
  it('cover every record type once; every event type has a sample above', () => {
    expect(new Set([...EVENT_TYPES, ...JOURNAL_TYPES, ...COMMAND_TYPES]).size).toBe(
      Object.keys(schemas).length,
    );
    expect(EVENT_TYPES.sort()).toEqual(Object.keys(ONE_OF_EACH).sort());
  });

  it('docs/events.md documents every record type and every field, at this version', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/events.md'), 'utf8');
    expect(doc).toContain(`(schema version ${RECORD_VERSION})`);
    for (const [type, schema] of Object.entries(schemas)) {
      const start = doc.indexOf(`### \`${type}\``);
      expect(start, `docs/events.md has no section for ${type}`).toBeGreaterThanOrEqual(0);
      const end = doc.indexOf('\n### ', start + 1);
      const section = doc.slice(start, end < 0 ? undefined : end);
      for (const field of Object.keys(schema.properties as object)) {
        if (['type', 'version', 'at', 'time'].includes(field)) continue;
        expect(section, `docs/events.md: ${type} does not name ${field}`).toContain(`\`${field}\``);
      }
    }
  });

  it('the document of all records compiles, and takes stream and journal lines alike', () => {
    const validate = new Ajv({ strict: false }).compile(recordsDocument());
    const line = JSON.parse(toJsonLine(ONE_OF_EACH.promoted));
    expect(validate(line)).toBe(true);
    const { time: _t, ...journaled } = line;
    expect(validate({ ...journaled, run: 'x', seq: 1 })).toBe(true);
    expect(validate({ ...line, bakeMs: 1 })).toBe(false);
    expect(validate({ ...line, version: 1 })).toBe(false);
  });
});

describe('journals written by earlier versions', () => {
  const fixture = (name: string) => path.join(ROOT, 'test/fixtures/journals', name);

  it('version 1 (canary 0.1.0: camelCase, v: 1) and version 3 are read as written', () => {
    for (const [name, version] of [
      ['v1-journal-route.journal.ndjson', 1],
      ['v3-journal-route.journal.ndjson', 3],
    ] as const) {
      const records = readJournal(fixture(name));
      expect(records.length).toBeGreaterThan(10);
      expect(new Set(records.map((r) => r.v))).toEqual(new Set([version]));
      const runs = summarizeRuns(records);
      expect(runs.map((r) => [r.command, r.outcome, r.exitCode])).toEqual(
        version === 1
          ? [
              ['rollout', 'promoted', 0],
              ['rollback', 'done', 0],
              ['rollout', null, null],
            ]
          : [
              ['rollout', 'promoted', 0],
              ['rollback', 'done', 0],
              ['rollout', 'held', 0],
            ],
      );
      expect(runs[0]?.header.apiKeyEnv).toBe('RELAY_API_KEY');
      expect(runs[0]?.stageCount).toBe(3);
    }
  });

  it('a journal holding version 3 and version 4 runs reads as one history, and the report names each', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-mixed-'));
    dirs.push(dir);
    const file = journalPath(dir, 'v3-journal-route');
    writeFileSync(file, readFileSync(fixture('v3-journal-route.journal.ndjson'), 'utf8'));
    const writer = new JournalWriter(
      { stateDir: dir, route: 'v3-journal-route', redact: (t) => t, warn: () => {} },
      { command: 'rollout', at: 1_900_000_000_000, route: 'v3-journal-route', relay: 'x', apiKeyEnv: 'K' },
    );
    for (const e of promotedRun()) writer.append({ ...e, at: 1_900_000_000_000 + e.at });
    writer.close();
    const runs = summarizeRuns(readJournal(file));
    expect(runs.map((r) => r.outcome)).toEqual(['promoted', 'done', 'held', 'promoted']);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const v3Run = lines.filter((r) => r.run === runs[0]?.run);
    const v4Run = lines.filter((r) => r.run === runs[3]?.run);
    expect(buildReportModel(v3Run, 'v3').journalVersion).toBe(3);
    const model = buildReportModel(v4Run, 'v4');
    expect(model.journalVersion).toBe(RECORD_VERSION);
    expect(model.outcome).toBe('promoted');
    expect(model.stages.map((s) => s.bakeMs)).toEqual(
      (promotedRun()[0] as Extract<RolloutEvent, { type: 'rollout_started' }>).stages.map((s) => s.bakeMs),
    );
  });

  it('sample runs the reporters use read back unchanged through the journal', () => {
    for (const run of [promotedRun(), rolledBackRun(), waitingRun()]) {
      for (const e of run) {
        const { v: _v, time: _t, ...back } = fromRecord<Record<string, unknown>>(JSON.parse(toJsonLine(e)));
        expect(back).toEqual(JSON.parse(JSON.stringify(e)));
      }
    }
  });
});
