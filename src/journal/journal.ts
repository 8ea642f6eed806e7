/**
 * The append-only journal: one NDJSON file per route under the state dir, one record per
 * RolloutEvent, each written with writeSync from the emit path, so a killed process loses
 * nothing. Every record that changes what resume or a rollback would do is also fsynced before
 * the engine takes its next action; observations (evaluations and the like, one every few
 * seconds for hours) are fsynced with the next such record, with the first record written
 * OBSERVATION_SYNC_MS or more after them, or at close: a power cut may lose the readings since
 * the last of those (the last interval's, on a slow plan), never a weight change. Resume,
 * `canary rollback` with no arguments and `canary history` read it back.
 *
 * Two rules shape this file:
 * - The journal serves the rollout, never the other way round: a failed write warns once on
 *   stderr and the rollout carries on (a full disk must not strand traffic at 25 %).
 * - Nothing secret goes in: the header names the env var / key file, never the key, and every
 *   line passes through the Io's redaction before it is written.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { RouteRule } from '../domain/relay.js';
import { fromRecord, RECORD_VERSION, recordLine } from '../output/record.js';
import type { RolloutEvent } from '../rollout/events.js';

/**
 * 1: the engine's events in camelCase, with `v`, `run` and `seq`.
 * 2: `rollout_started` carries `plan` (the plan as run, secrets replaced) and `run_by` (user,
 * host, pid, CI); `canary report` names what a version 1 journal lacks.
 * 3: `prompt_eval_finished`'s report carries `per_prompt` (one compact row per prompt, at most
 * 200) and `per_prompt_left_out`, for the report's per-prompt table.
 * 4: the records' contract (src/output/record.ts, docs/events.md): `type` and `version` first,
 * snake_case keys, the same records as the event stream plus `run` and `seq`. Versions 1–3 are
 * still read (a journal may hold runs of several versions).
 */
export const JOURNAL_VERSION = RECORD_VERSION;

/**
 * Records that report what was seen rather than what was done. fsync cost a rollout 2 ms of
 * every evaluation here (docs/benchmarks.md), more than judging it.
 */
const OBSERVATIONS: ReadonlySet<string> = new Set([
  'evaluation',
  'waiting_for_data',
  'stage_check',
  'metrics_error',
  'log',
]);
/**
 * Observations wait for an fsync at most until a record is written this long after the first
 * of them (there is no timer: on a plan whose interval is longer, until the next record).
 */
export const OBSERVATION_SYNC_MS = 5_000;

import { loginName } from './login.js';
import { JOURNAL_SUFFIX, journalPath } from './paths.js';

export {
  DEFAULT_STATE_DIR,
  JOURNAL_SUFFIX,
  journalFileName,
  journalPath,
  resolveStateDir,
  STATE_DIR_ENV,
} from './paths.js';

/** The first record of every run: enough to roll the route back without the plan. */
export interface RunHeader {
  type: 'run_started';
  command: 'rollout' | 'rollback';
  at: number;
  route: string;
  /** Absolute plan path and its sha256 (rollouts; absent for a bare `rollback --route`). */
  plan?: string | undefined;
  planHash?: string | undefined;
  baseline?: string | undefined;
  canary?: string | undefined;
  /** Relay base URL (never credentials). */
  relay: string;
  /** True when the relay was an emulator inside that process: gone once it exits. */
  inProcessEmulator?: boolean | undefined;
  /** Where the key came from (names only). */
  apiKeyEnv: string;
  apiKeyFile?: string | undefined;
  rollbackDeadlineMs?: number | undefined;
  pid: number;
  host: string;
  /** 1-based stage this run started at. */
  startStage?: number | undefined;
  /** The run this one resumes, when it picked up an interrupted rollout. */
  resumes?: string | undefined;
  /** `rollback -m`: why, as the person running it said. */
  reason?: string | undefined;
  /** Who ran it: the login name (pid and host are above). */
  user?: string | undefined;
}

/** Written when a run ends without the engine's own `rollout_finished` (e.g. a pre-flight error). */
export interface RunEnded {
  type: 'run_ended';
  at: number;
  exitCode: number;
  message: string;
}

export type JournalBody = RunHeader | RunEnded | RolloutEvent;
/**
 * A record as read back: the body plus the run it belongs to, its sequence number and the
 * version it was written in (`v`; stored as `version` from version 4 on).
 */
export type JournalRecord = JournalBody & { run: string; seq: number; v: number };

function newRunId(at: number): string {
  const stamp = new Date(at)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
}

export interface JournalWriterOptions {
  stateDir: string;
  route: string;
  /** Scrubs secrets from every line (the Io's redact). */
  redact: (text: string) => string;
  /** Where a failed write is reported, once. */
  warn: (message: string) => void;
  /** Flushes the file to disk (fsyncSync; tests count the calls). */
  sync?: (fd: number) => void;
  /** Monotonic ms for OBSERVATION_SYNC_MS (default: process.hrtime). */
  now?: () => number;
}

const monotonicMs = () => Number(process.hrtime.bigint() / 1_000_000n);

export class JournalWriter {
  readonly file: string;
  readonly run: string;
  private fd: number | null = null;
  private seq = 0;
  private warned = false;
  private finished = false;
  /** When records written since the last fsync started waiting for one; null when none wait. */
  private unsyncedSince: number | null = null;

  constructor(
    private readonly opts: JournalWriterOptions,
    header: Omit<RunHeader, 'type' | 'pid' | 'host'>,
  ) {
    this.file = journalPath(opts.stateDir, opts.route);
    this.run = newRunId(header.at);
    try {
      mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
      this.fd = openSync(this.file, 'a', 0o600);
    } catch (error) {
      this.fail(error);
    }
    this.append({
      type: 'run_started',
      ...header,
      pid: process.pid,
      host: hostname(),
      user: header.user ?? loginName() ?? 'unknown',
    });
  }

  /** Appends one record, and fsyncs it unless it is an observation that may wait; never throws. */
  append(body: JournalBody): void {
    if (body.type === 'rollout_finished' || body.type === 'run_ended') this.finished = true;
    if (this.fd === null) return;
    // The event stream's records (src/output/record.ts), plus the run and the record's place in it.
    const { type, ...fields } = body;
    const line = recordLine(type, { run: this.run, seq: this.seq++, ...fields });
    try {
      writeSync(this.fd, this.opts.redact(line));
      const now = (this.opts.now ?? monotonicMs)();
      if (
        OBSERVATIONS.has(body.type) &&
        (this.unsyncedSince === null || now - this.unsyncedSince < OBSERVATION_SYNC_MS)
      ) {
        this.unsyncedSince ??= now;
        return;
      }
      this.flush();
    } catch (error) {
      this.fail(error);
    }
  }

  private flush(): void {
    if (this.fd === null) return;
    (this.opts.sync ?? fsyncSync)(this.fd);
    this.unsyncedSince = null;
  }

  /** True once the run's outcome is recorded. */
  get hasOutcome(): boolean {
    return this.finished;
  }

  close(): void {
    if (this.fd === null) return;
    try {
      if (this.unsyncedSince !== null) this.flush();
      closeSync(this.fd);
    } catch {
      // Already reported or harmless: every record was fsynced when written or here.
    }
    this.fd = null;
  }

  private fail(error: unknown): void {
    if (!this.warned) {
      this.warned = true;
      const why = error instanceof Error ? error.message : String(error);
      this.opts.warn(
        `warning: cannot write the journal ${this.file} (${why}); the rollout continues without it, so resume and history will not know about this run.`,
      );
    }
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // The descriptor is unusable either way.
      }
    }
    this.fd = null;
  }
}

/**
 * Every line of NDJSON text that is a JSON object with a string `type`: the journal's records
 * and `--output-file`'s events alike. A torn or foreign line (kill -9 mid-write, a person's
 * line in a log) is skipped rather than losing the rest.
 */
export function recordLines(text: string): Array<Record<string, unknown> & { type: string }> {
  const records: Array<Record<string, unknown> & { type: string }> = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = JSON.parse(line) as { type?: unknown } | null;
      if (parsed && typeof parsed === 'object' && typeof parsed.type === 'string') {
        records.push(parsed as Record<string, unknown> & { type: string });
      }
    } catch {
      // Not a record: see above.
    }
  }
  return records;
}

/** Every well-formed record of a journal file; a torn last line (kill -9 mid-write) is skipped. */
export function readJournal(file: string): JournalRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  // Version 4 records in snake_case, versions 1–3 (camelCase, `v`) as they were written.
  return recordLines(text)
    .filter((r) => typeof r.run === 'string')
    .map((r) => fromRecord<JournalRecord>(r));
}

/** One run as the journal tells it. */
export interface RunSummary {
  run: string;
  command: 'rollout' | 'rollback';
  route: string;
  header: RunHeader;
  startedAt: number;
  /** Last record's time. */
  lastAt: number;
  /** Null while (or when it never got to) recording an outcome: the process died or is running. */
  outcome: string | null;
  exitCode: number | null;
  durationMs: number;
  /** 0-based furthest stage whose weights were set, or null. */
  stage: number | null;
  stageCount: number | null;
  /** The route's rules as last recorded. */
  rules: RouteRule[] | null;
  /** The check or reason that decided the outcome, in one line. */
  decisive: string | null;
  summary: string | null;
  next: string | null;
  /** Requests from other shells (`canary promote|pause|resume|abort`), oldest first. */
  control: {
    at: number;
    action: string;
    full: boolean;
    reason: string | null;
    user: string;
    host: string;
    pid: number;
  }[];
}

function decisiveOf(records: JournalRecord[]): string | null {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i] as JournalRecord;
    if (r.type === 'rollback_started') return `${r.cause}: ${r.reason}`;
    if (r.type === 'aborted') return r.reason;
    if (r.type === 'run_ended') return r.message;
    if (r.type === 'gate_decision' && r.decision !== 'promote') return `gate: ${r.decision} by ${r.by}`;
  }
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i] as JournalRecord;
    if (r.type === 'evaluation') {
      const checks = r.evaluation.checks.map((c) => `${c.id} ${c.status}`).join(', ');
      return `last evaluation ${r.evaluation.verdict} at stage ${r.stage + 1}${checks ? ` (${checks})` : ''}`;
    }
  }
  return null;
}

export function summarizeRuns(records: JournalRecord[]): RunSummary[] {
  const byRun = new Map<string, JournalRecord[]>();
  for (const r of records) {
    const list = byRun.get(r.run);
    if (list) list.push(r);
    else byRun.set(r.run, [r]);
  }
  const runs: RunSummary[] = [];
  for (const [run, list] of byRun) {
    const header = list.find((r) => r.type === 'run_started') as (RunHeader & JournalRecord) | undefined;
    if (!header) continue;
    let outcome: string | null = null;
    let exitCode: number | null = null;
    let stage: number | null = null;
    let stageCount: number | null = null;
    let rules: RouteRule[] | null = null;
    let summary: string | null = null;
    let next: string | null = null;
    const control: RunSummary['control'] = [];
    for (const r of list) {
      switch (r.type) {
        case 'control_request':
          control.push({
            at: r.at,
            action: r.action,
            full: r.full === true,
            reason: r.reason ?? null,
            user: r.user,
            host: r.host,
            pid: r.pid,
          });
          break;
        case 'rollout_started':
          stageCount = r.stages.length;
          break;
        case 'stage_started':
          stage = stage === null ? r.stage : Math.max(stage, r.stage);
          rules = r.rules;
          break;
        case 'weights_set':
        case 'rolled_back':
        case 'promoted':
          rules = r.rules;
          break;
        case 'aborted':
          if (r.rules) rules = r.rules;
          break;
        case 'rollout_finished':
          outcome = r.outcome;
          exitCode = r.exitCode;
          if (r.traffic) rules = r.traffic;
          summary = r.summary;
          next = r.next ?? null;
          break;
        case 'run_ended':
          outcome = outcome ?? (r.exitCode === 0 ? 'done' : 'failed');
          exitCode = exitCode ?? r.exitCode;
          summary = summary ?? r.message;
          break;
        default:
          break;
      }
    }
    const last = list[list.length - 1] as JournalRecord;
    runs.push({
      run,
      command: header.command,
      route: header.route,
      header,
      startedAt: header.at,
      lastAt: last.at,
      outcome,
      exitCode,
      durationMs: last.at - header.at,
      stage,
      stageCount,
      rules,
      decisive: decisiveOf(list),
      summary,
      next,
      control,
    });
  }
  return runs.sort((a, b) => a.startedAt - b.startedAt);
}

/** Every journal in a state dir, with its runs (oldest first). */
export function readStateDir(stateDir: string): { file: string; route: string; runs: RunSummary[] }[] {
  if (!existsSync(stateDir)) return [];
  const out: { file: string; route: string; runs: RunSummary[] }[] = [];
  for (const name of readdirSync(stateDir).sort()) {
    if (!name.endsWith(JOURNAL_SUFFIX)) continue;
    const file = path.join(stateDir, name);
    const runs = summarizeRuns(readJournal(file));
    const route = runs[runs.length - 1]?.route ?? name.slice(0, -JOURNAL_SUFFIX.length);
    out.push({ file, route, runs });
  }
  return out;
}

/** The latest rollout run of a route's journal, if any. */
export function lastRollout(runs: RunSummary[]): RunSummary | undefined {
  for (let i = runs.length - 1; i >= 0; i--) {
    const run = runs[i] as RunSummary;
    if (run.command === 'rollout') return run;
  }
  return undefined;
}
