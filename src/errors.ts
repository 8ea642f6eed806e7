/**
 * The one table of exit codes and the one error hierarchy. Only `runProcess` in
 * src/run-process.ts (which the full CLI and the fast rollback entry share) turns these into a
 * process exit; everything else throws or returns them.
 */
export const ExitCode = {
  /** Promoted, valid, rolled back on request, or any command that did what was asked. */
  Ok: 0,
  /** A bug in canary. */
  Internal: 1,
  /** Bad input: plan, flags, key file, scenario. Nothing was changed. */
  BadInput: 2,
  /**
   * The canary did not ship: rolled back to the baseline (a health check failed, or an operator
   * said so), or rejected by the pre-traffic evaluation before any traffic moved.
   */
  RolledBack: 3,
  /** Rollback failed: traffic state is uncertain; the message says what to run by hand. */
  RollbackFailed: 4,
  /** Aborted on a relay or network error (or drift, a held lock, a timeout); traffic left at the stated stage. */
  Aborted: 5,
  /** No rollout of the route is running here: a control command or `status --wait` had nothing to reach. */
  NotRunning: 6,
  /** Hung up (SIGHUP: an SSH connection dropped, a terminal window closed). */
  HungUp: 129,
  /** Interrupted by SIGINT (Ctrl-C). */
  Interrupted: 130,
  /** Terminated by SIGTERM (e.g. a cancelled CI job). */
  Terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Human-readable meaning of each exit code, shared by `--help` output and the README. */
export const EXIT_CODE_MEANINGS: Record<ExitCode, string> = {
  0: 'success: promoted, valid, or rolled back on request',
  1: 'internal error (a bug in canary)',
  2: 'bad input: plan, flags, key file, an API key the relay rejects, or scenario; nothing was changed',
  3: 'the canary did not ship: rolled back to the baseline (a health check failed, or an operator rolled it back), or rejected by the pre-traffic evaluation with no traffic moved',
  4: 'rollback failed: traffic state uncertain; the message says what to run by hand',
  5: 'aborted on a relay/network error, drift, a held lock or timeout; traffic as the last line states (baseline restored if the relay failed while the canary held traffic)',
  6: 'no rollout of that route is running (control commands, status --wait); nothing was sent',
  129: 'hung up (SIGHUP: the terminal or SSH session went away)',
  130: 'interrupted (SIGINT)',
  143: 'terminated (SIGTERM)',
};

/** Base of every error canary expects; anything else is a bug and exits 1. */
export class CanaryError extends Error {
  readonly exitCode: ExitCode;
  /** A next step the user can take, printed under the message. */
  readonly hint: string | undefined;
  constructor(message: string, exitCode: ExitCode, options?: { hint?: string | undefined; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options?.hint;
  }
}

/** Bad flags or arguments. */
export class UsageError extends CanaryError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.BadInput, options);
  }
}

/** One located problem in a plan or scenario file. Lines and columns are 1-based. */
export interface PlanProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted path into the document, e.g. `analysis.thresholds.error_rate.max`. */
  path: string;
  message: string;
}

/** A plan (or scenario) that failed validation; carries every problem found, not just the first. */
export class PlanError extends CanaryError {
  readonly problems: PlanProblem[];
  constructor(problems: PlanProblem[], options?: { hint?: string }) {
    super(
      problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n'),
      ExitCode.BadInput,
      options,
    );
    this.problems = problems;
  }
}

/** Missing, unreadable or unsafe API key. Never carries the key itself. */
export class CredentialsError extends CanaryError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.BadInput, options);
  }
}

/** The relay answered with an error, or could not be reached. Exit 5: nothing further was changed. */
export class RelayError extends CanaryError {
  /** HTTP status, or undefined when no response arrived (network error, timeout). */
  readonly status: number | undefined;
  /** The relay's `error.type`, or a client-side kind: `network_error`, `timeout`, `invalid_response`. */
  readonly type: string;
  readonly field: string | undefined;
  /** `METHOD /path` of the call, without query string values that could matter for secrets. */
  readonly operation: string;
  /** For 409s, the relay's `error.existing`. */
  readonly existing: unknown;
  /**
   * No answer came, and asking again would fail the same way: a certificate that is not
   * trusted, a host name that does not exist, something other than a relay answering.
   */
  readonly unreachable: boolean;
  /**
   * The request never reached the relay (the connection was refused or could not be made), so
   * it cannot have changed anything.
   */
  readonly notSent: boolean;
  constructor(init: {
    message: string;
    type: string;
    operation: string;
    status?: number | undefined;
    field?: string | undefined;
    existing?: unknown;
    hint?: string | undefined;
    cause?: unknown;
    unreachable?: boolean | undefined;
    /** Exit 5 unless said otherwise: a rejected key is bad input (2), which asking again cannot fix. */
    exitCode?: ExitCode | undefined;
    notSent?: boolean | undefined;
  }) {
    super(init.message, init.exitCode ?? ExitCode.Aborted, { hint: init.hint, cause: init.cause });
    this.status = init.status;
    this.type = init.type;
    this.field = init.field;
    this.operation = init.operation;
    this.existing = init.existing;
    this.unreachable = init.unreachable ?? false;
    this.notSent = init.notSent ?? false;
  }
}

/** The rollback could not be confirmed: the message carries the exact manual command. */
export class RollbackFailedError extends CanaryError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.RollbackFailed, options);
  }
}

/** Someone else changed the route under a running rollout; canary stops without overwriting. */
export class DriftError extends CanaryError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.Aborted, options);
  }
}

export function isCanaryError(error: unknown): error is CanaryError {
  return error instanceof CanaryError;
}

/** Why a file could not be read, in words (a plan, and the prompt sets it names). */
export function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'not a file';
  return (error as Error).message ?? String(error);
}
