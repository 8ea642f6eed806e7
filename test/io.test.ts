import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createIo, type InStream, type OutStream } from '../src/io.js';
import { promptEnd } from '../src/terminal/prompt-errors.js';
import { terminalPrompter } from '../src/terminal/prompter.js';

function collector(): OutStream & { text: string } {
  const out = {
    text: '',
    write(chunk: string) {
      out.text += chunk;
      return true;
    },
  };
  return out;
}

describe('createIo', () => {
  it('redacts every registered secret from both output streams', () => {
    const stdout = collector();
    const stderr = collector();
    const io = createIo({ stdout, stderr, stdin: new PassThrough() as InStream, env: {}, cwd: '/' });
    io.addSecret('sk-live-abcdef123456');
    io.stdout.write('key=sk-live-abcdef123456 twice sk-live-abcdef123456\n');
    io.stderr.write('error: Bearer sk-live-abcdef123456 refused\n');
    expect(stdout.text).toBe('key=[REDACTED] twice [REDACTED]\n');
    expect(stderr.text).toBe('error: Bearer [REDACTED] refused\n');
    expect(io.redact('x sk-live-abcdef123456 y')).toBe('x [REDACTED] y');
  });

  it('ignores values too short to be keys, which would blank ordinary words', () => {
    const stdout = collector();
    const io = createIo({
      stdout,
      stderr: collector(),
      stdin: new PassThrough() as InStream,
      env: {},
      cwd: '/',
    });
    io.addSecret('abc');
    io.stdout.write('abc\n');
    expect(stdout.text).toBe('abc\n');
  });

  it('looks stdin up only when a command reads it (rollback never pays for creating it)', () => {
    let touched = 0;
    const stdin = new PassThrough() as InStream;
    const io = createIo({
      stdout: collector(),
      stderr: collector(),
      get stdin() {
        touched++;
        return stdin;
      },
      env: {},
      cwd: '/',
    });
    expect(touched).toBe(0);
    expect(io.stdin).toBe(stdin);
    expect(touched).toBe(1);
  });
});

describe('the prompter on Io', () => {
  it('an Io nobody gave a prompter cannot ask, and says so instead of hanging', async () => {
    const io = createIo({
      stdout: collector(),
      stderr: collector(),
      stdin: new PassThrough() as InStream,
      env: {},
      cwd: '/',
    });
    expect(io.prompter.canAsk).toBe(false);
    await expect(io.prompter.confirm({ message: 'sure?' })).rejects.toThrow(/cannot ask/);
  });

  it('withPrompter keeps the streams and the secrets, and hands the prompter the finished Io', () => {
    const stderr = collector();
    const io = createIo({
      stdout: collector(),
      stderr,
      stdin: new PassThrough() as InStream,
      env: {},
      cwd: '/',
    });
    io.addSecret('sk-live-abcdef123456');
    let seen: typeof io | undefined;
    const asking = io.withPrompter((inner) => {
      seen = inner;
      return { ...io.prompter, canAsk: true };
    });
    expect(asking.prompter.canAsk).toBe(true);
    expect(seen).toBe(asking);
    asking.stderr.write('sk-live-abcdef123456\n');
    expect(stderr.text).toBe('[REDACTED]\n');
    // The original is unchanged.
    expect(io.prompter.canAsk).toBe(false);
  });

  it('the terminal prompter reads io.stdin and draws on io.stderr through the redaction', async () => {
    const stdout = collector();
    const stderr = collector();
    const keys = new PassThrough();
    const io = createIo({
      stdout,
      stderr,
      stdin: keys as InStream,
      env: {},
      cwd: '/',
      prompter: terminalPrompter,
    });
    io.addSecret('sk-live-abcdef123456');
    const answer = io.prompter.select({
      message: 'Roll back sk-live-abcdef123456?',
      choices: [
        { name: 'no', value: 'no' },
        { name: 'yes', value: 'yes' },
      ],
    });
    // Down, then Enter: the second choice.
    setTimeout(() => {
      keys.write('\u001b[B');
      keys.write('\r');
    }, 50);
    await expect(answer).resolves.toBe('yes');
    expect(stderr.text).toContain('Roll back [REDACTED]?');
    expect(stderr.text).not.toContain('sk-live');
    expect(stdout.text).toBe('');
  });

  it('a withdrawn question rejects as an abort, which the terminal code tells from Ctrl-C', async () => {
    const stdin = new PassThrough() as InStream;
    const io = createIo({
      stdout: collector(),
      stderr: collector(),
      stdin,
      env: {},
      cwd: '/',
      prompter: terminalPrompter,
    });
    const controller = new AbortController();
    const answer = io.prompter.confirm({ message: 'quit?' }, { signal: controller.signal });
    controller.abort();
    const error = await answer.catch((e: unknown) => e);
    expect(promptEnd(error)).toBe('aborted');
  });
});
