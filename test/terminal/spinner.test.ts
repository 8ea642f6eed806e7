/**
 * The spinner's rules (src/terminal/spinner.ts) and its drawing through the Io: where it may
 * draw, that every byte ora writes passes the Io's redaction, and that a wait shorter than the
 * delay draws nothing. test/e2e/spinner.test.ts shows it at a real terminal.
 */
import { describe, expect, it } from 'vitest';
import { createIo, type Io } from '../../src/io.js';
import { spinnerAllowed, startSpinner } from '../../src/terminal/spinner.js';
import { until } from '../helpers/index.js';

function terminalIo(env: Record<string, string> = {}): { io: Io; written: () => string } {
  let text = '';
  const io = createIo({
    stdout: { write: () => true, isTTY: true },
    stderr: {
      write: (chunk: string) => {
        text += chunk;
        return true;
      },
      isTTY: true,
      columns: 100,
    },
    stdin: process.stdin,
    env,
    cwd: '/',
  });
  return { io, written: () => text };
}

describe('spinnerAllowed', () => {
  it('only for output meant for a person, on a terminal, outside CI, not on a dumb terminal', async () => {
    expect(await spinnerAllowed(terminalIo().io, true)).toBe(true);
    expect(await spinnerAllowed(terminalIo().io, false)).toBe(false);
    expect(await spinnerAllowed(terminalIo({ CI: 'true' }).io, true)).toBe(false);
    expect(await spinnerAllowed(terminalIo({ GITHUB_ACTIONS: 'true' }).io, true)).toBe(false);
    expect(await spinnerAllowed(terminalIo({ TERM: 'dumb' }).io, true)).toBe(false);
    const piped = terminalIo().io;
    expect(await spinnerAllowed({ ...piped, stderr: { write: () => true, isTTY: false } }, true)).toBe(false);
  });
});

describe('startSpinner', () => {
  it('draws through the Io, so a secret in its text is redacted', async () => {
    const { io, written } = terminalIo();
    io.addSecret('sk-spinner-secret-91');
    const spinner = startSpinner(io, 'waiting for sk-spinner-secret-91', { forPerson: true, color: false });
    await until('the first frame', () => written().includes('waiting for'), 10_000);
    spinner.update('still waiting, key sk-spinner-secret-91');
    await until('the new text', () => written().includes('still waiting'), 10_000);
    spinner.stop();
    expect(written()).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] waiting for \[REDACTED\]/);
    expect(written()).not.toContain('sk-spinner-secret-91');
    // Stopping takes the line off the screen: the last thing written clears it.
    expect(written().endsWith('\u001b[0K')).toBe(true);
  });

  it('draws nothing when the wait ends within its delay, or where none belongs', async () => {
    const quick = terminalIo();
    startSpinner(quick.io, 'reading', { forPerson: true, color: false, delayMs: 60_000 }).stop();
    const ci = terminalIo({ CI: '1' });
    const spinner = startSpinner(ci.io, 'reading', { forPerson: true, color: false });
    await new Promise((resolve) => setImmediate(resolve));
    spinner.stop();
    expect(quick.written()).toBe('');
    expect(ci.written()).toBe('');
  });
});
