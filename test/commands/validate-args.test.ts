/**
 * `canary validate`'s own entry (src/validate-entry.ts, dist/validate-entry.cjs) reads its
 * command line with node:util's parseArgs over the command table's declaration, the plan
 * argument included (src/command-table/parse-args.ts, `positionals`). For every argv it takes,
 * commander must give the command the same options; every plainly written validate must be
 * taken (or the entry would hand it on, and load commander, for nothing); and what it does not
 * take must reach the whole bundle unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateCommand } from '../../src/command-table/commands.js';
import { readDeclaredOptions } from '../../src/command-table/parse-args.js';
import type { Io } from '../../src/io.js';
import { main } from '../../src/validate-entry.js';
import { expectFastReaderAgrees, plainOptions, viaCommander } from '../helpers/commander-parse.js';
import { captureIo } from '../plan/helpers.js';

const read = (argv: readonly string[]) => readDeclaredOptions(validateCommand, argv, { positionals: true });

describe('the validate entry reads its command line as commander does', () => {
  it('whatever it takes from any argv, commander reads the same way', async () => {
    const token = fc.oneof(
      fc.constantFrom(
        '-o',
        '--output',
        '--no-color',
        '--help',
        '-h',
        '--',
        '-',
        '--bogus',
        '--outpt',
        '-x',
        '-oplain',
        '--output=json',
        '--output=',
        '--color',
        '',
      ),
      fc.constantFrom(
        'plan.yaml',
        'examples/quickstart.yaml',
        'a b.yaml',
        'json',
        'plain',
        'yaml',
        '-p.yaml',
      ),
    );
    await expectFastReaderAgrees(validateCommand, 'validate', token, read);
  });

  it('takes every plainly written validate, with the options commander gives', async () => {
    for (const argv of [
      ['validate', 'plan.yaml'],
      ['validate', 'plan.yaml', '-o', 'json'],
      ['validate', '-o', 'json', 'plan.yaml'],
      ['validate', '--output=plain', 'plan.yaml', '--no-color'],
      ['validate', '--no-color', 'plan.yaml', '--output', 'yaml'],
    ]) {
      const fast = read(argv);
      expect(fast, argv.join(' ')).toBeDefined();
      expect(plainOptions(fast)).toEqual(plainOptions(await viaCommander(validateCommand, argv)));
    }
  });

  it('leaves to commander what it words an error or a help page for', () => {
    for (const argv of [
      ['validate'],
      ['validate', 'a.yaml', 'b.yaml'],
      ['validate', 'plan.yaml', '--help'],
      ['validate', 'plan.yaml', '--bogus'],
      ['validate', 'plan.yaml', '-o'],
      ['validate', '--', 'plan.yaml'],
      ['validate', '-'],
      ['status', 'plan.yaml'],
    ]) {
      expect(read(argv), argv.join(' ')).toBeUndefined();
    }
  });

  it('the positional reading is asked for: without it, a plan is still handed on', () => {
    expect(readDeclaredOptions(validateCommand, ['validate', 'plan.yaml'])).toBeUndefined();
  });
});

describe('the entry runs validate itself, and hands the rest on unchanged', () => {
  it('a plan is validated without loading the whole bundle', async () => {
    const { io, stdout } = captureIo(process.cwd());
    let handedOn = false;
    const code = await main(['validate', 'examples/quickstart.yaml'], io, async () => {
      handedOn = true;
      return async () => 99;
    });
    expect({ code, handedOn }).toEqual({ code: 0, handedOn: false });
    expect(stdout()).toContain('examples/quickstart.yaml is valid');
  });

  it('an error of its own is reported the way every command reports one', async () => {
    const { io, stderr } = captureIo(process.cwd());
    const code = await main(['validate', 'examples/quickstart.yaml', '-o', 'yaml'], io, async () => {
      throw new Error('not handed on');
    });
    expect(code).toBe(2);
    expect(stderr()).toBe("error: validate --output takes plain or json, got 'yaml'\n");
  });

  it('what it does not read goes to the whole bundle, argv and Io as they were', async () => {
    const { io } = captureIo(process.cwd());
    const argv = ['validate', 'examples/quickstart.yaml', '--help'];
    let received: [string[], Io] | undefined;
    const code = await main(argv, io, async () => async (a, i) => {
      received = [a, i];
      return 7;
    });
    expect(code).toBe(7);
    expect(received?.[0]).toBe(argv);
    expect(received?.[1]).toBe(io);
  });
});
