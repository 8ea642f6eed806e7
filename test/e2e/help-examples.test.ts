/**
 * Every `--help` ends with Examples (as gh and kubectl do), and `rollout --help` lists the live
 * view's keys and what Ctrl-C does, read from the built CLI as a user runs it.
 */
import { describe, expect, it } from 'vitest';
import { commandTable } from '../../src/cli.js';
import { createIo } from '../../src/io.js';
import { runCli } from '../helpers/index.js';

/** Every visible command, from the program's own table: a new command without examples fails here. */
const COMMANDS = commandTable(
  createIo({
    stdout: { write: () => true },
    stderr: { write: () => true },
    stdin: process.stdin,
    env: {},
    cwd: '.',
  }),
)
  .commands.filter((c) => !c.name().startsWith('_'))
  .map((c) => c.name());

describe('help pages end with examples', () => {
  it.each([[[] as string[]], ...COMMANDS.map((c) => [[c]])])('canary %j --help', async (command) => {
    const result = await runCli([...command, '--help']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    const examples = lines.lastIndexOf('Examples:');
    expect(examples, result.stdout).toBeGreaterThan(0);
    const after = lines.slice(examples + 1);
    expect(after.length).toBeGreaterThan(0);
    for (const line of after) expect(line).toMatch(/^ {2}\$ (source <\()?canary /);
  });

  it('rollout --help lists the keys and the Ctrl-C menu', async () => {
    const { stdout } = await runCli(['rollout', '--help']);
    for (const key of ['p ', 'h ', 'r ', 'q ', 'Ctrl-C '])
      expect(stdout).toMatch(new RegExp(`^ {2}${key}`, 'm'));
    expect(stdout).toContain('a second Ctrl-C rolls back at once');
    expect(stdout).toContain('--on-interrupt');
  });
});
