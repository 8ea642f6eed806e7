/**
 * The append-only journal: one NDJSON file per route under the state dir, one record per
 * RolloutEvent, each written with writeSync from the emit path, so a killed process loses
 * nothing. Every record that changes what resume or a rollback would do is also fsynced before
 * the engine takes its next action; observations (evaluations and the like, one every few
 * seconds for hours) are fsynced with the next such record, with the first record written
 * OBSERVATION_SYNC_MS or more after them, or at close: a power cut may lose the readings since
 * the last of those (the last interval's, on a slow plan), never a weight change. Resume,
 * `canary rollback` with no arguments and `canary history` read it back (reader.ts,
 * run-summary.ts); what a record holds is in records.ts.
 *
 * Two rules shape this file:
 * - The journal serves the rollout, never the other way round: a failed write warns once on
 *   stderr and the rollout carries on (a full disk must not strand traffic at 25 %).
 * - Nothing secret goes in: the header names the env var / key file, never the key, and every
 *   line passes through the Io's redaction before it is written.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { recordLine } from '../output/record.js';
import { loginName } from './login.js';
import { journalPath } from './paths.js';
import type { JournalBody, RunHeader } from './records.js';

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

export {
  DEFAULT_STATE_DIR,
  JOURNAL_SUFFIX,
  journalFileName,
  journalPath,
  resolveStateDir,
  STATE_DIR_ENV,
} from './paths.js';

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
    const line = recordLine(body.type, body, { run: this.run, seq: this.seq++ });
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
