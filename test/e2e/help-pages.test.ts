/**
 * Help pages: bin/canary.cjs prints `canary --help` (and each command's) from dist/help.json,
 * written at build time. These tests hold the two paths to the same text: the stored page is
 * what the program prints today, in any environment, and the shim falls back to the program
 * where a stored page would be wrong (a terminal narrower than the page, any other argv).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HELP_WIDTH, helpRequests, main } from '../../src/cli.js';
import { createIo, type OutStream } from '../../src/io.js';
import { BIN, baseEnv, runCli, scratchCwd } from '../helpers/index.js';
import { spawnPty } from '../helpers/pty.js';

const stored = JSON.parse(readFileSync(new URL('../../dist/help.json', import.meta.url), 'utf8')) as {
  width: number;
  pages: Record<string, string>;
};

/** The stored page for argv; a missing one fails the test that asks. */
function pageOf(argv: string[]): string {
  const page = stored.pages[JSON.stringify(argv)];
  if (page === undefined) throw new Error(`no stored help page for ${JSON.stringify(argv)}`);
  return page;
}

function capture(tty?: { columns: number }): OutStream & { text: string } {
  const stream = {
    text: '',
    isTTY: tty !== undefined,
    columns: tty?.columns,
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream;
}

/** The program's own output for argv, in-process, on the given stdout. */
async function programHelp(argv: string[], stdout = capture(), env: Record<string, string> = {}) {
  const stderr = capture();
  const io = createIo({ stdout, stderr, stdin: process.stdin, env, cwd: process.cwd() });
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('help pages', () => {
  it('stores a page for every help request, at the width the program wraps to', () => {
    expect(stored.width).toBe(HELP_WIDTH);
    const io = createIo({ stdout: capture(), stderr: capture(), stdin: process.stdin, env: {}, cwd: '.' });
    const keys = helpRequests(io).map((argv) => JSON.stringify(argv));
    expect(Object.keys(stored.pages).sort()).toEqual([...keys].sort());
    // Every command is covered, rollback (served by its own bundle) included.
    expect(keys).toContain(JSON.stringify(['rollback', '--help']));
    expect(keys).toContain(JSON.stringify(['rollout', '-h']));
  });

  it('each stored page is exactly what the program prints, whatever the environment', async () => {
    for (const [key, page] of Object.entries(stored.pages)) {
      const argv = JSON.parse(key) as string[];
      const plain = await programHelp(argv);
      expect(plain, key).toEqual({ code: 0, stdout: page, stderr: '' });
      // Colour, CI and a wide terminal change nothing in help.
      const wide = await programHelp(argv, capture({ columns: 200 }), { FORCE_COLOR: '3', CI: 'true' });
      expect(wide.stdout, key).toBe(page);
    }
  });

  it('wraps to a terminal narrower than the page', async () => {
    const page = pageOf(['--help']);
    const narrow = await programHelp(['--help'], capture({ columns: 60 }));
    expect(narrow.code).toBe(0);
    expect(narrow.stdout).not.toBe(page);
    // The same words, laid out by commander for 60 columns.
    expect(narrow.stdout.replace(/\s+/g, ' ')).toBe(page.replace(/\s+/g, ' '));
  });

  it('the built CLI prints the stored page, and the same text where it runs the program', async () => {
    const page = pageOf(['--help']);
    expect(page).toContain('Usage: canary');
    expect(await runCli(['--help'])).toMatchObject({ code: 0, stdout: page, stderr: '' });
    // Not a stored argv: the full program runs, and must agree.
    expect(await runCli(['--no-color', '--help'])).toMatchObject({ code: 0, stdout: page, stderr: '' });
    const rollback = pageOf(['rollback', '--help']);
    expect(await runCli(['rollback', '--help'])).toMatchObject({ code: 0, stdout: rollback });
    expect(await runCli(['help', 'rollback'])).toMatchObject({ code: 0, stdout: rollback });
  });

  it('a reader that has gone is not an error: `canary --help | true` exits 0 quietly', () => {
    // `true` exits long before Node has started, so canary's write meets a closed pipe (EPIPE).
    for (const args of ['--help', '--version', 'rollback --help', '--no-color --help']) {
      const result = spawnSync(
        'bash',
        ['-c', `"${process.execPath}" "${BIN}" ${args} | true; echo "exit \${PIPESTATUS[0]}" >&2`],
        { encoding: 'utf8', env: baseEnv(), cwd: scratchCwd() },
      );
      expect(result.stderr, args).toBe('exit 0\n');
    }
  });

  it('in a terminal, the stored page when it fits, the program wrapping to the width when not', async () => {
    const page = pageOf(['--help']);
    const wide = spawnPty(['--help'], { cols: 120, env: baseEnv({ TERM: 'xterm-256color' }) });
    expect((await wide.exited).code).toBe(0);
    expect(wide.screen()).toBe(page);

    const narrow = spawnPty(['--help'], { cols: 60, env: baseEnv({ TERM: 'xterm-256color' }) });
    expect((await narrow.exited).code).toBe(0);
    expect(narrow.screen()).not.toBe(page);
    expect(narrow.screen()).toBe((await programHelp(['--help'], capture({ columns: 60 }))).stdout);
  });
});
