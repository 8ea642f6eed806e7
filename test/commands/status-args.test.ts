/**
 * `canary status`'s fast flag reader (dist/status-route.cjs: node:util's parseArgs over the
 * command table's declaration, src/command-table/parse-args.ts) against commander's parse of the
 * same declaration: for every argv the reader takes, both must give the command the same options,
 * and every plainly spelled route form must be taken (or the fast entry would silently hand it on).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { statusCommand } from '../../src/command-table/commands.js';
import { readDeclaredOptions } from '../../src/command-table/parse-args.js';
import {
  expectFastReaderAgrees,
  plainOptions,
  viaCommander as viaCommanderOf,
} from '../helpers/commander-parse.js';

const parseStatusArgs = (argv: readonly string[]) => readDeclaredOptions(statusCommand, argv);

const viaCommander = (argv: string[]) => viaCommanderOf(statusCommand, argv);
const plain = plainOptions;

const VALUE_FLAGS = [
  '--route',
  '--window',
  '--interval',
  '--timeout',
  '--state-dir',
  '--relay-url',
  '--api-key-env',
  '--api-key-file',
  '--output',
  '-o',
];
const SWITCHES = ['--watch', '--wait', '--allow-insecure-http', '--no-color'];
const value = fc.constantFrom(
  'code-review',
  'http://127.0.0.1:8787/v1',
  'json',
  'plain',
  'tty',
  '1m',
  '90s',
  '1h30m',
  '0s',
  'soon',
  'a b',
  'MY_KEY',
);

describe('the fast status entry reads its flags as commander does', () => {
  it('whatever it takes from any argv, commander reads the same way', async () => {
    const token = fc.oneof(
      fc.constantFrom(
        ...VALUE_FLAGS,
        ...SWITCHES,
        '--help',
        '-h',
        '--',
        '--bogus',
        '--rout',
        'plan.yaml',
        '-x',
        '',
      ),
      value,
      fc.tuple(fc.constantFrom(...VALUE_FLAGS), value).map(([f, v]) => `${f}=${v}`),
      fc.constantFrom('--route=', '--window=-1m', '--output=yaml', '-ojson', '--watch=1'),
    );
    await expectFastReaderAgrees(statusCommand, 'status', token);
  });

  it('takes the route forms as commander reads them', async () => {
    for (const argv of [
      ['status'],
      ['status', '--route', 'r'],
      ['status', '--route', 'a', '--route', 'b', '-o', 'json'],
      ['status', '--route=r', '--relay-url=http://127.0.0.1:1/v1', '--window=1m', '--output=plain'],
      ['status', '--route', 'r', '--watch', '--interval', '2s', '--no-color'],
      ['status', '--route', 'r', '--wait', '--timeout', '1h30m', '--state-dir', '/tmp/s'],
    ]) {
      const fast = parseStatusArgs(argv);
      expect(fast, argv.join(' ')).toBeDefined();
      expect(plain(fast)).toEqual(plain(await viaCommander(argv)));
    }
  });

  it('leaves to commander what it would word an error or a help page for', () => {
    for (const argv of [
      ['status', 'plan.yaml'],
      ['status', '--route', 'r', '--help'],
      ['status', '--route', 'r', '--bogus'],
      ['status', '--rout', 'r'],
      ['status', '--route', 'r', '--interval', 'soon'],
      ['status', '--route', 'r', '--interval', '0s'],
      ['status', '--route', 'r', '-o', 'yaml'],
      ['status', '--route', '-r'],
      ['rollback', '--route', 'r'],
    ]) {
      expect(parseStatusArgs(argv), argv.join(' ')).toBeUndefined();
    }
  });
});
