/**
 * The program's global settings (name, version, `--no-color`, help width, exit-code table) for
 * src/cli.ts, and how it parses argv and turns commander's refusals into exit codes. The
 * commands themselves are declared in src/command-table/. Error reporting and the process's exit
 * are in src/run-process.ts, which the fast rollback entry shares.
 */
import { Command, CommanderError } from 'commander';
import type { RunCommand } from './command-table/commander.js';
import { EXIT_CODE_MEANINGS, ExitCode } from './errors.js';
import type { Io, OutStream } from './io.js';
import { reportError } from './run-process.js';
import { VERSION } from './version.js';

function exitCodeTable(): string {
  return Object.entries(EXIT_CODE_MEANINGS)
    .map(([code, meaning]) => `  ${code.padStart(3)}  ${meaning}`)
    .join('\n');
}

/**
 * Help wraps at 80 columns, or at the terminal's width when that is narrower. Pinned rather than
 * following wide terminals, so the text is the same everywhere and bin/canary.cjs can print
 * `--help` pages from dist/help.json, written at build time by this same program.
 */
export const HELP_WIDTH = 80;

function helpWidth(stream: OutStream): number {
  const columns = stream.isTTY ? stream.columns : undefined;
  return columns !== undefined && columns > 0 && columns < HELP_WIDTH ? columns : HELP_WIDTH;
}

/** The program with its global options and settings, and no commands yet. */
export function createProgram(
  io: Io,
  setResult: (code: number) => void,
): { program: Command; runCommand: RunCommand } {
  const program = new Command();
  const runCommand: RunCommand = async (load) => {
    const execute = await load();
    setResult(await execute(io));
  };

  program
    .name('canary')
    .description('Progressive delivery of AI model versions through an API relay.')
    .version(VERSION, '-V, --version')
    .option('--no-color', 'disable colour (also NO_COLOR=1)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `\nExit codes:\n${exitCodeTable()}\n`)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      getOutHelpWidth: () => helpWidth(io.stdout),
      getErrHelpWidth: () => helpWidth(io.stderr),
    })
    .exitOverride();
  return { program, runCommand };
}

/** Parses argv with the program `build` makes and runs its command, returning the exit code. */
export async function runProgram(
  build: (io: Io, setResult: (code: number) => void) => Command,
  argv: string[],
  io: Io,
): Promise<number> {
  let result: number = ExitCode.Ok;
  const program = build(io, (code) => {
    result = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with code 0; every real parse error is bad input.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.BadInput;
    }
    return reportError(error, io);
  }
}
