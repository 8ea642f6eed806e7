/**
 * The fast entry for `canary rollback` (bin/canary.cjs loads dist/rollback.cjs when the first
 * argument is `rollback`): the same program settings and the same `rollback` command as
 * src/cli.ts, from src/program.ts, without the other commands, so an incident pays only for
 * what a rollback runs. Every other invocation goes through src/cli.ts.
 *
 * `canary rollback plan.yaml` needs the plan loader, most of the full CLI's size; this entry
 * hands that form, unchanged, to the full CLI, which bin/canary.cjs loads only then.
 */
import type { Command } from 'commander';
import type { Io } from './io.js';
import { addRollbackCommand, createProgram, runProcess, runProgram } from './program.js';

/** The full CLI's `main` (src/cli.ts), loaded on demand. */
export type LoadFullCli = () => Promise<(argv: string[], io: Io) => Promise<number>>;

export function main(argv: string[], io: Io, loadFullCli: LoadFullCli): Promise<number> {
  const build = (io: Io, setResult: (code: number) => void): Command => {
    const { program, runCommand } = createProgram(io, setResult);
    addRollbackCommand(program, runCommand, async (withPlan) => {
      if (withPlan) {
        const fullMain = await loadFullCli();
        return (_opts, io) => fullMain(argv, io);
      }
      const { runRollbackCommand } = await import('./commands/rollback.js');
      return (opts, io) => runRollbackCommand(opts, io);
    });
    return program;
  };
  return runProgram(build, argv, io);
}

export function run(loadFullCli: LoadFullCli): Promise<void> {
  return runProcess((argv, io) => main(argv, io, loadFullCli));
}
