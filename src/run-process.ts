/**
 * The process's edge: runs `main` and exits with its code, and reports an error the way every
 * command does. No commander here, so `canary rollback`'s incident path (src/rollback-entry.ts)
 * can run without loading it.
 */
import { CanaryError, ExitCode } from './errors.js';
import { type Io, processIo } from './io.js';

/**
 * A fast entry's way to the full CLI's `main` (src/cli.ts), loaded only when the entry hands a
 * command line on (src/rollback-entry.ts, src/status-route-entry.ts).
 */
export type LoadFullCli = () => Promise<(argv: string[], io: Io) => Promise<number>>;

/** Prints an error the way every command does: message, then a hint; never a stack for expected errors. */
export function reportError(error: unknown, io: Io): number {
  if (error instanceof CanaryError) {
    io.stderr.write(`error: ${error.message}\n`);
    if (error.hint) io.stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`internal error: ${detail}\n`);
  io.stderr.write('This is a bug in canary. Please report it with the command you ran.\n');
  return ExitCode.Internal;
}

/**
 * Runs `main` on the process's arguments and exits with its code: the one `process.exit`.
 * `direct`: output to a pipe or a file is written synchronously (processIo), for a command that
 * writes a little and exits.
 */
export async function runProcess(
  main: (argv: string[], io: Io) => Promise<number>,
  options: { direct?: boolean } = {},
): Promise<void> {
  const { io, flush } = processIo(options);
  const code = await main(process.argv.slice(2), io);
  // Exit explicitly (keep-alive sockets and stdin would otherwise hold the process open),
  // but only once what was written has flushed, so piped output is never cut short.
  await flush();
  process.exit(code);
}
