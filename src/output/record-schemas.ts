/**
 * A JSON Schema (draft-07) for every record type canary writes: the contract docs/events.md
 * describes in words. `canary schema records` prints them as one document; the tests validate
 * real output (spawned rollouts, status, history, rollback, validate, simulate, journals,
 * webhook bodies) against them with ajv, and hold docs/events.md to name every type and field.
 */
import { RECORD_VERSION } from './record.js';
import {
  bool,
  evalReport,
  evaluation,
  int,
  iso,
  list,
  liveInfo,
  mapOf,
  nullable,
  num,
  object,
  oneOf,
  open,
  problem,
  rules,
  runBy,
  type Schema,
  stageIndex,
  statusRollout,
  str,
  versionMetrics,
} from './schema-parts.js';

export type { Schema } from './schema-parts.js';

/** A record type's own fields, and which of them may be left out. */
type Fields = [Record<string, Schema>, string[]?];

const outcome = oneOf(
  'promoted',
  'rolled_back',
  'aborted',
  'rollback_failed',
  'interrupted',
  'held',
  'rejected',
);

/** The rollout events (stdout with --output json, --output-file, the journal). */
const EVENTS: Record<string, Fields> = {
  rollout_started: [
    {
      route: str,
      baseline: str,
      canary: str,
      stages: list(object({ weight: num, bake_ms: int, pause: bool })),
      relay: str,
      metrics_source: str,
      start_stage: stageIndex,
      plan: open,
      run_by: runBy,
    },
    ['plan', 'run_by'],
  ],
  preflight: [{ step: str, detail: str }],
  stage_started: [{ stage: stageIndex, stage_count: int, weight: num, bake_ms: int, pause: bool, rules }],
  weights_set: [{ stage: stageIndex, rules, revision: int }, ['revision']],
  evaluation: [
    {
      stage: stageIndex,
      evaluation,
      consecutive_failures: int,
      failure_limit: int,
      bake_elapsed_ms: int,
      bake_ms: int,
      next_check_at: int,
    },
  ],
  waiting_for_data: [
    { stage: stageIndex, requests: nullable(num), min_requests: int, deadline_at: int, needs: str },
    ['needs'],
  ],
  metrics_error: [{ stage: stageIndex, message: str, consecutive: int, limit: int }],
  stage_check: [
    {
      stage: stageIndex,
      check: object({
        name: str,
        status: oneOf('pass', 'fail'),
        exit_code: nullable(int),
        timed_out: bool,
        duration_ms: int,
        output: str,
      }),
    },
  ],
  stage_passed: [{ stage: stageIndex, weight: num }],
  paused: [{ stage: stageIndex, weight: num }],
  gate_decision: [{ stage: stageIndex, decision: oneOf('promote', 'rollback', 'hold'), by: str }],
  operator_action: [
    { stage: stageIndex, action: oneOf('promote', 'hold', 'release', 'rollback', 'quit'), detail: str },
  ],
  control_request: [
    {
      action: oneOf('promote', 'pause', 'resume', 'abort'),
      full: bool,
      reason: str,
      user: str,
      host: str,
      pid: int,
    },
    ['full', 'reason'],
  ],
  rollback_started: [
    {
      stage: stageIndex,
      cause: oneOf(
        'health',
        'insufficient_data',
        'shared_incident',
        'metrics_unavailable',
        'relay_error',
        'operator',
        'interrupt',
        'timeout',
        'request',
      ),
      reason: str,
      to: rules,
    },
  ],
  rolled_back: [{ rules, revision: int, duration_ms: int }, ['revision']],
  rollback_failed: [{ message: str, manual_command: str }],
  promoted: [{ rules }],
  aborted: [{ stage: stageIndex, reason: str, rules: nullable(rules) }],
  rollout_finished: [
    { outcome, exit_code: int, route: str, traffic: nullable(rules), summary: str, next: str },
    ['next'],
  ],
  log: [{ level: oneOf('info', 'warn', 'error'), message: str }],
  prompt_eval_started: [
    {
      baseline: str,
      canary: str,
      prompts: int,
      repeat: int,
      requests_per_version: int,
      concurrency: int,
      judge: bool,
    },
  ],
  prompt_eval_progress: [{ done: int, total: int }],
  prompt_eval_finished: [{ report: evalReport }],
  prompt_eval_skipped: [{ reason: oneOf('flag', 'resumed'), detail: str }],
};

/** Records only the journal holds, around a run's events. */
const JOURNAL_ONLY: Record<string, Fields> = {
  run_started: [
    {
      command: oneOf('rollout', 'rollback'),
      at: int,
      route: str,
      plan: str,
      plan_hash: str,
      baseline: str,
      canary: str,
      relay: str,
      in_process_emulator: bool,
      api_key_env: str,
      api_key_file: str,
      rollback_deadline_ms: int,
      pid: int,
      host: str,
      start_stage: int,
      resumes: str,
      reason: str,
      user: str,
    },
    [
      'plan',
      'plan_hash',
      'baseline',
      'canary',
      'in_process_emulator',
      'api_key_file',
      'rollback_deadline_ms',
      'start_stage',
      'resumes',
      'reason',
      'user',
    ],
  ],
  run_ended: [{ at: int, exit_code: int, message: str }],
};

/** Fields the journal adds to each record: the run it belongs to and its place in it. */
const JOURNAL_FIELDS: Record<string, Schema> = { run: str, seq: { type: 'integer', minimum: 0 } };

const spread = object({ median: num, p90: num });

/** What the other commands print with `-o json`, one record per line, and webhook bodies. */
const COMMANDS: Record<string, Fields> = {
  status: [
    {
      time: iso,
      source: str,
      window_ms: int,
      route: open,
      metrics: mapOf(nullable(versionMetrics)),
      errors: mapOf(str),
      rollout: nullable(statusRollout),
    },
  ],
  history_run: [
    {
      run: str,
      command: oneOf('rollout', 'rollback'),
      route: str,
      plan: nullable(str),
      plan_hash: nullable(str),
      relay: str,
      started_at: iso,
      duration_ms: int,
      outcome: nullable(str),
      superseded_by: nullable(str),
      exit_code: nullable(int),
      stage: nullable(int),
      stage_count: nullable(int),
      resumes: nullable(str),
      traffic: nullable(rules),
      user: nullable(str),
      host: str,
      pid: int,
      reason: nullable(str),
      control: list(
        object({
          at: iso,
          action: str,
          full: bool,
          reason: nullable(str),
          user: str,
          host: str,
          pid: int,
        }),
      ),
      decisive: nullable(str),
      summary: nullable(str),
    },
  ],
  rollback: [
    {
      route: str,
      to: str,
      changed: bool,
      before: rules,
      after: rules,
      revision: nullable(int),
      reason: nullable(str),
    },
  ],
  rollback_interrupted: [
    {
      route: str,
      to: str,
      signal: oneOf('SIGINT', 'SIGTERM', 'SIGHUP'),
      patch_sent: bool,
      read_back: nullable(rules),
      revision: nullable(int),
      read_error: nullable(str),
      message: str,
      exit_code: int,
      next: list(str),
    },
  ],
  validation: [
    {
      file: str,
      valid: bool,
      problems: list(problem),
      warnings: list(problem),
      summary: object({
        file: str,
        hash: str,
        relay: str,
        route: str,
        baseline: str,
        canary: str,
        stages: list(object({ weight: num, bake_ms: int, pause: bool })),
        total_bake_ms: int,
        max_duration_ms: int,
      }),
    },
    ['warnings', 'summary'],
  ],
  simulation: [
    {
      plan: str,
      scenario: str,
      rps: num,
      seeds: int,
      promoted_pct: num,
      rolled_back_pct: num,
      outcomes: mapOf(int),
      stage_decided: mapOf(int),
      decision_seconds: spread,
      failed_canary_requests: spread,
      excess_failed_requests: spread,
      shared_incident_seen_pct: num,
    },
  ],
  control_answer: [
    {
      action: oneOf('promote', 'pause', 'resume', 'abort'),
      route: str,
      ok: bool,
      queued: bool,
      message: str,
      exit_code: nullable(int),
      rollout: nullable(liveInfo),
    },
  ],
  notification: [
    {
      event: oneOf('started', 'stage_passed', 'paused', 'promoted', 'rolled_back', 'failed'),
      route: str,
      stage: nullable(int),
      stage_count: int,
      weight: nullable(num),
      outcome: nullable(str),
      baseline: str,
      canary: str,
      summary: nullable(str),
      next: nullable(str),
      reason: nullable(str),
      by: nullable(str),
      time: iso,
      text: str,
    },
  ],
};

function recordSchema(type: string, [fields, optional]: Fields): Schema {
  const body = object({ type: { const: type }, version: { const: RECORD_VERSION }, ...fields }, optional);
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: type, ...body };
}

/** The rollout event types (stdout, --output-file, journal). */
export const EVENT_TYPES = Object.keys(EVENTS);
/** Types only journals hold. */
export const JOURNAL_TYPES = Object.keys(JOURNAL_ONLY);
/** Types the other commands print, and webhook bodies. */
export const COMMAND_TYPES = Object.keys(COMMANDS);

/** Every record type's schema, by type, as the event stream and the commands write them. */
export function recordSchemas(): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const [type, [fields, optional]] of Object.entries(EVENTS)) {
    out[type] = recordSchema(type, [{ at: int, time: iso, ...fields }, optional]);
  }
  for (const [type, fields] of Object.entries({ ...JOURNAL_ONLY, ...COMMANDS })) {
    out[type] = recordSchema(type, fields);
  }
  return out;
}

/** A journal line's schema: the record's plus `run` and `seq`; journal events carry no `time`. */
export function journalSchema(type: string): Schema | undefined {
  const fields = EVENTS[type] ?? JOURNAL_ONLY[type];
  if (!fields) return undefined;
  const at: Record<string, Schema> = type in EVENTS ? { at: int } : {};
  return recordSchema(type, [{ ...JOURNAL_FIELDS, ...at, ...fields[0] }, fields[1]]);
}

/**
 * All of them as one document (`canary schema records`): a record is valid if it matches its
 * type's schema, as written to a stream or, for the types a journal holds, as journaled.
 */
export function recordsDocument(): Schema {
  const schemas = recordSchemas();
  const bare = (schema: Schema): Schema => {
    const { $schema: _s, title: _t, ...rest } = schema;
    return rest;
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `canary JSON records, version ${RECORD_VERSION}`,
    description:
      'Every record canary writes: rollout events, journal records (which add run and seq, and leave out time), the -o json results of other commands, and webhook bodies. See docs/events.md.',
    type: 'object',
    required: ['type', 'version'],
    properties: { type: { enum: Object.keys(schemas) }, version: { const: RECORD_VERSION } },
    allOf: Object.entries(schemas).map(([type, schema]) => {
      const journaled = journalSchema(type);
      const forms =
        journaled && type in EVENTS ? [bare(schema), bare(journaled)] : [bare(journaled ?? schema)];
      const then = forms.length === 1 ? forms[0] : { anyOf: forms };
      return { if: { properties: { type: { const: type } }, required: ['type'] }, then };
    }),
  };
}
