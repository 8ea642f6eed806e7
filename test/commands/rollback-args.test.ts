/**
 * `canary rollback`'s fast flag reader (node:util's parseArgs over the command table's
 * declaration, src/command-table/parse-args.ts) against commander's parse of the same
 * declaration: for every argv the reader takes, both must give the command the same options,
 * and every plainly spelled incident and journal form must be taken (or dist/rollback.cjs would
 * silently hand it to the full CLI).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readDeclaredOptions } from '../../src/command-table/parse-args.js';
import { rollbackCommand } from '../../src/command-table/rollback.js';
import {
  expectFastReaderAgrees,
  plainOptions,
  viaCommander as viaCommanderOf,
} from '../helpers/commander-parse.js';

const parseRollbackArgs = (argv: readonly string[]) => readDeclaredOptions(rollbackCommand, argv);

const viaCommander = (argv: string[]) => viaCommanderOf(rollbackCommand, argv);
const plain = plainOptions;

const VALUE_FLAGS = [
  '--route',
  '--to',
  '--relay-url',
  '--api-key-env',
  '--api-key-file',
  '--state-dir',
  '--message',
  '-m',
  '--output',
  '-o',
];
const value = fc.constantFrom(
  'code-review',
  'claude-v1',
  'http://127.0.0.1:8787/v1',
  'json',
  'plain',
  'tty',
  'auto',
  'a b',
  'x=y',
  'MY_KEY',
  '~/key',
);

describe('the fast rollback entry reads its flags as commander does', () => {
  it('takes every plainly spelled incident form, with the options commander gives', async () => {
    const optional = fc.subarray([
      '--relay-url',
      '--api-key-env',
      '--api-key-file',
      '--state-dir',
      '--message',
      'output',
      '--allow-insecure-http',
      '--no-color',
    ]);
    await fc.assert(
      fc.asyncProperty(
        optional,
        value,
        value,
        fc.array(value, { minLength: 9, maxLength: 9 }),
        fc.array(fc.boolean(), { minLength: 11, maxLength: 11 }),
        fc.nat(),
        async (extra, route, to, values, inline, seed) => {
          const parts: string[][] = [];
          const add = (flag: string, v: string, i: number) =>
            parts.push(inline[i] ? [`${flag}=${v}`] : [flag, v]);
          add('--route', route, 0);
          add('--to', to, 1);
          extra.forEach((flag, i) => {
            if (flag === '--allow-insecure-http' || flag === '--no-color') parts.push([flag]);
            else if (flag === 'output')
              parts.push(
                inline[i + 2]
                  ? ['--output', ['json', 'plain', 'tty', 'auto'][seed % 4] as string]
                  : ['-o', 'json'],
              );
            else add(flag, values[i] as string, i + 2);
          });
          // Any order of the flags.
          const order = parts.map((p, i) => ({ p, k: (seed * (i + 7)) % 13 })).sort((a, b) => a.k - b.k);
          const argv = ['rollback', ...order.flatMap((o) => o.p)];
          const fast = parseRollbackArgs(argv);
          expect(fast, argv.join(' ')).toBeDefined();
          expect(plain(fast)).toEqual(plain(await viaCommander(argv)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('whatever it takes from any argv, commander reads the same way', async () => {
    const token = fc.oneof(
      fc.constantFrom(
        ...VALUE_FLAGS,
        '--allow-insecure-http',
        '--no-color',
        '--help',
        '-h',
        '--',
        '--bogus',
        'plan.yaml',
        '-x',
        '',
      ),
      value,
      fc.tuple(fc.constantFrom(...VALUE_FLAGS), value).map(([f, v]) => `${f}=${v}`),
      fc.constantFrom('--route=', '--to=-v', '--output=yaml', '-ojson', '--allow-insecure-http=1'),
    );
    await expectFastReaderAgrees(rollbackCommand, 'rollback', token);
  });

  it('takes the journal forms: no flags, or --route alone', async () => {
    for (const argv of [
      ['rollback'],
      ['rollback', '--route', 'r'],
      ['rollback', '--state-dir', '/tmp/s', '-o', 'json'],
    ]) {
      const fast = parseRollbackArgs(argv);
      expect(fast, argv.join(' ')).toBeDefined();
      expect(plain(fast)).toEqual(plain(await viaCommander(argv)));
    }
  });

  it('leaves to commander what it would word an error or a help page for', () => {
    for (const argv of [
      ['rollback', 'plan.yaml'],
      ['rollback', '--to', 'v', 'plan.yaml'],
      ['rollback', '--route', 'r', '--to', 'v', '--help'],
      ['rollback', '--route', 'r', '--to', 'v', '--output', 'yaml'],
      ['rollback', '--route', '-r', '--to', 'v'],
      ['rollback', '--route', 'r', '--to', 'v', '--bogus'],
      ['status', '--route', 'r', '--to', 'v'],
    ]) {
      expect(parseRollbackArgs(argv), argv.join(' ')).toBeUndefined();
    }
  });
});
