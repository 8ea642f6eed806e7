/**
 * What a journal record is: the run header, the run's end, and the engine's events, as written by
 * the JournalWriter (journal.ts) and read back by reader.ts. Its own file so that readers
 * (`history`, `status`, `report`, resume) name the records without importing the writer.
 */
import { RECORD_VERSION } from '../output/record.js';
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
