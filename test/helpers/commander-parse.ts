/**
 * What commander hands a declared command for an argv, for the tests that hold the fast entries'
 * flag reader (src/command-table/parse-args.ts) to the full CLI's parse of the same declaration.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { addCommand } from '../../src/command-table/commander.js';
import type { CommandOptions, CommandSpec } from '../../src/command-table/define.js';
import { readDeclaredOptions } from '../../src/command-table/parse-args.js';
import { createIo, type InStream } from '../../src/io.js';
import { createProgram, runProgram } from '../../src/program.js';

const sink = () => ({ text: '', write: (_s: string) => true });

/** The options commander gives `spec`'s handler for `argv`, or 'refused' when it does not run it. */
export async function viaCommander<C extends CommandSpec>(
  spec: C,
  argv: string[],
): Promise<CommandOptions<C> | 'refused'> {
  const io = createIo({
    stdout: sink(),
    stderr: sink(),
    stdin: undefined as unknown as InStream,
    env: {},
    cwd: '/',
  });
  let captured: CommandOptions<C> | undefined;
  await runProgram(
    (io, setResult) => {
      const { program, runCommand } = createProgram(io, setResult);
      addCommand(program, spec, runCommand, async () => async (opts) => {
        captured = opts;
        return 0;
      });
      return program;
    },
    argv,
    io,
  );
  return captured ?? 'refused';
}

/** Options as data: a key set to undefined and a missing key mean the same to the command. */
export const plainOptions = (o: object | 'refused' | undefined) =>
  o === undefined || o === 'refused' ? o : JSON.parse(JSON.stringify(o));

/**
 * For 600 argvs of `command` made of `token`s: whatever the fast reader (`read`, by default
 * readDeclaredOptions without positionals) takes, commander reads the same way; and the reader
 * takes some of them (a reader that takes nothing proves nothing).
 */
export async function expectFastReaderAgrees<C extends CommandSpec>(
  spec: C,
  command: string,
  token: fc.Arbitrary<string>,
  read: (argv: string[]) => CommandOptions<C> | undefined = (argv) => readDeclaredOptions(spec, argv),
): Promise<void> {
  let taken = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(token, { maxLength: 9 }), async (rest) => {
      const argv = [command, ...rest];
      const fast = read(argv);
      if (fast === undefined) return;
      taken++;
      expect(plainOptions(fast), argv.join(' ')).toEqual(plainOptions(await viaCommander(spec, argv)));
    }),
    { numRuns: 600 },
  );
  expect(taken).toBeGreaterThan(0);
}
