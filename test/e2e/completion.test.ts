/**
 * `canary completion bash|zsh|fish`, generated from the commander definitions: bash is run for
 * real (its completion function called as bash calls it, with a `canary` on PATH that is the
 * built CLI, so `--route` completes from the state folder's journals); zsh and fish (not on this
 * machine) are held to naming every command and every flag the program defines.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandTable } from '../../src/cli.js';
import { createIo } from '../../src/io.js';
import { BIN, baseEnv, runCli } from '../helpers/index.js';

let dir: string;
let bash: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'canary-completion-'));
  mkdirSync(path.join(dir, 'bin'));
  writeFileSync(path.join(dir, 'bin', 'canary'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(path.join(dir, 'bin', 'canary'), 0o755);
  mkdirSync(path.join(dir, '.canary'));
  for (const route of ['chat-prod', 'code-review']) {
    writeFileSync(
      path.join(dir, '.canary', `${route}.journal.ndjson`),
      `${JSON.stringify({ v: 1, run: 'r1', seq: 0, type: 'run_started', command: 'rollout', at: 0, route, relay: 'http://x/v1', apiKeyEnv: 'K', pid: 1, host: 'h' })}\n`,
    );
  }
  writeFileSync(path.join(dir, 'plan.yaml'), 'route: x\n');
  writeFileSync(path.join(dir, 'notes.txt'), 'x\n');
  bash = (await runCli(['completion', 'bash'])).stdout;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What bash completes for the words typed so far (the last one is being completed). */
function complete(words: string[]): string[] {
  const script = `${bash}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})
COMP_CWORD=${words.length - 1}
_canary
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['-c', script], {
    cwd: dir,
    env: { ...baseEnv({ HOME: dir }), PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` },
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  return result.stdout.split('\n').filter(Boolean).sort();
}

describe('canary completion', () => {
  it('bash: commands, flags, choices, plan files and route ids from the journal', () => {
    expect(spawnSync('bash', ['-n'], { input: bash }).status).toBe(0);
    expect(complete(['canary', 'p'])).toEqual(['pause', 'promote']);
    expect(complete(['canary', 'rollout', '--on-int'])).toEqual(['--on-interrupt']);
    expect(complete(['canary', 'rollout', '--on-timeout', ''])).toEqual(['leave', 'rollback']);
    expect(complete(['canary', 'promote', '--f'])).toEqual(['--full']);
    expect(complete(['canary', 'abort', '--route', ''])).toEqual(['chat-prod', 'code-review']);
    expect(complete(['canary', 'status', '--route', 'co'])).toEqual(['code-review']);
    expect(complete(['canary', 'validate', ''])).toContain('plan.yaml');
    expect(complete(['canary', 'validate', ''])).not.toContain('notes.txt');
    expect(complete(['canary', 'completion', ''])).toEqual(['bash', 'fish', 'zsh']);
  });

  it('zsh and fish name every command and every flag the program defines', async () => {
    const zsh = (await runCli(['completion', 'zsh'])).stdout;
    const fish = (await runCli(['completion', 'fish'])).stdout;
    // The program's own definitions, as --help reads them.
    const io = createIo({
      stdout: { write: () => true },
      stderr: { write: () => true },
      stdin: process.stdin,
      env: {},
      cwd: '.',
    });
    const program = commandTable(io);
    const commands = program.commands.filter((c) => !c.name().startsWith('_'));
    expect(commands.length).toBeGreaterThan(10);
    for (const command of commands) {
      expect(zsh).toContain(`'${command.name()}:`);
      expect(fish).toContain(`-a ${command.name()} -d`);
      for (const option of command.options) {
        const long = option.long as string;
        expect(zsh, `${command.name()} ${long}`).toMatch(new RegExp(`${long}(\\[|\\})`));
        expect(fish, `${command.name()} ${long}`).toContain(
          `'__fish_seen_subcommand_from ${command.name()}'`,
        );
        expect(fish).toContain(`-l ${long.slice(2)}`);
      }
    }
    expect(zsh).toContain('_canary_routes');
    expect(fish).toContain('(canary __routes 2>/dev/null)');
  });

  it('an unknown shell is bad input (exit 2)', async () => {
    const result = await runCli(['completion', 'powershell']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bash, zsh, fish|"bash", "zsh", "fish"/);
  });
});
