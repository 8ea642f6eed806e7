/**
 * The entry of dist/validate-entry.cjs, which bin/canary.cjs runs for every `canary validate`
 * (pre-commit hooks, editors and CI lint steps run it constantly): the same validate command as
 * src/cli.ts runs, without commander, whose program, options and help set-up were ≈ 1.5 ms of a
 * validate's start (docs/benchmarks.md, "validate: its own entry").
 *
 * As the rollback and status entries do, it reads the command line with node:util's parseArgs
 * from the declaration commander gets (src/command-table/parse-args.ts), here with the plan
 * argument, and hands whatever that does not take (help, a mistyped flag, a missing or extra
 * argument, `--`) unchanged to validate's whole bundle, which bin/canary.cjs loads only then,
 * so commander words those errors and pages as it always has.
 */

import { readDeclaredOptions } from './command-table/parse-args.js';
import { validateCommand } from './command-table/validate.js';
import { runValidate } from './commands/validate.js';
import type { Io } from './io.js';
import { type LoadFullCli, reportError, runProcess } from './run-process.js';

export async function main(argv: string[], io: Io, loadFullCli: LoadFullCli): Promise<number> {
  const options = readDeclaredOptions(validateCommand, argv, { positionals: true });
  if (options === undefined) return (await loadFullCli())(argv, io);
  try {
    return await runValidate(options, io);
  } catch (error) {
    return reportError(error, io);
  }
}

/**
 * Output to a pipe or a file is written with fs.writeSync (src/direct-output.ts): validate
 * writes a summary or its problems and exits, and Node's stream for a pipe costs ≈ 2.5 ms to set up.
 */
export function run(loadFullCli: LoadFullCli): Promise<void> {
  return runProcess((argv, io) => main(argv, io, loadFullCli), { direct: true });
}
