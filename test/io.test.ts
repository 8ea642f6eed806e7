import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createIo, type InStream, type OutStream } from '../src/io.js';

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
