/**
 * The fast entry for `canary rollback` (bin/canary.js loads dist/rollback.cjs when the first
 * argument is `rollback`): the same program settings and the same `rollback` command as
 * src/cli.ts, from src/program.ts, without the other commands, so an incident pays only for
 * what a rollback runs. Every other invocation goes through src/cli.ts.
 */
import type { Command } from 'commander';
import type { Io } from './io.js';
import { addRollbackCommand, createProgram, runProcess, runProgram } from './program.js';

function buildProgram(io: Io, setResult: (code: number) => void): Command {
  const { program, runCommand } = createProgram(io, setResult);
  addRollbackCommand(program, runCommand);
  return program;
}

export function main(argv: string[], io: Io): Promise<number> {
  return runProgram(buildProgram, argv, io);
}

export function run(): Promise<void> {
  return runProcess(main);
}
