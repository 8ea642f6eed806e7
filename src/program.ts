/**
 * The program's global settings and the `rollback` command's definition, for src/cli.ts. The
 * fast `rollback` entry (src/rollback-entry.ts) reads the same flags without commander, through
 * src/commands/rollback-args.ts, which a test holds to this definition, and hands whatever it
 * does not read to src/cli.ts, so `canary rollback` helps and fails the same either way. Error
 * reporting and the process's exit are in src/run-process.ts, which both entries share.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { RollbackCommandOptions } from './commands/rollback.js';
import { EXIT_CODE_MEANINGS, ExitCode } from './errors.js';
import type { Io, OutStream } from './io.js';
import { reportError } from './run-process.js';
import { VERSION } from './version.js';

const OUTPUT_MODES = ['auto', 'tty', 'plain', 'json'] as const;
export type OutputFlag = (typeof OUTPUT_MODES)[number];

function exitCodeTable(): string {
  return Object.entries(EXIT_CODE_MEANINGS)
    .map(([code, meaning]) => `  ${code.padStart(3)}  ${meaning}`)
    .join('\n');
}

/** Parses a positive integer flag value, naming the flag on error. */
export function positiveInt(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) <= 0) {
      throw new InvalidArgumentError(`${flag} takes a whole number above 0, got '${value}'.`);
    }
    return Number(value);
  };
}

export function outputOption(): Option {
  return new Option(
    '-o, --output <mode>',
    'output: auto (tty in a terminal, else plain), tty, plain, json (NDJSON on stdout)',
  )
    .choices(OUTPUT_MODES)
    .default('auto');
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

/** Loads a command lazily, then runs it and records its exit code. */
export type RunCommand = (load: () => Promise<(io: Io) => Promise<number>>) => Promise<void>;

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

/** Runs `canary rollback` once its flags are parsed. */
export type RunRollback = (opts: RollbackCommandOptions, io: Io) => Promise<number>;

/**
 * `canary rollback`, defined once for both entries. Each entry says how to run it: `withPlan`
 * is true for `canary rollback plan.yaml`, which the fast entry hands to the full CLI.
 */
export function addRollbackCommand(
  program: Command,
  runCommand: RunCommand,
  load: (withPlan: boolean) => Promise<RunRollback>,
): void {
  program
    .command('rollback')
    .description('put the baseline (or --to TAG) at 100 % and everything else at 0; idempotent, never asks')
    .argument('[plan]', 'plan file whose route and baseline to restore')
    .option('--route <route>', 'route id (model alias), instead of a plan')
    .option('--to <tag>', 'version tag to restore to 100 % (with --route)')
    .option(
      '-m, --message <text>',
      "why: in the journal with who ran it (shown by history), the GitHub step summary, and the plan's notify: webhooks",
    )
    .addOption(outputOption())
    .option('--relay-url <url>', 'relay base URL ending in /v1 (default: the plan, else $CANARY_RELAY_URL)')
    .option('--api-key-env <name>', 'env var holding the API key', 'RELAY_API_KEY')
    .option('--api-key-file <file>', 'file holding the API key (used when the env var is unset)')
    .option('--allow-insecure-http', 'allow plain http:// to a non-loopback relay')
    .option(
      '--state-dir <dir>',
      'state folder to find the last rollout in (default: $CANARY_STATE_DIR, else the nearest .canary/ up from here)',
    )
    .action(async (plan: string | undefined, opts: Record<string, unknown>) => {
      await runCommand(async () => {
        const runRollback = await load(plan !== undefined);
        return (io) => runRollback({ plan, ...opts, color: program.opts().color } as never, io);
      });
    });
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
