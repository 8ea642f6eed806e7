/**
 * src/direct-output.ts: a short command's output to a pipe or a file, written with
 * fs.writeSync. Nothing may be lost or reordered when the descriptor takes a write in pieces or
 * refuses one (a full non-blocking pipe), and a reader that has gone is not an error.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ByteSink, directOutput, isPipeOrFile } from '../src/direct-output.js';

const dir = mkdtempSync(path.join(tmpdir(), 'canary-direct-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEXT = 'plan ✓ valid: 5% → 25% → 100%\n';

/** A fallback that records what reaches it, as bytes. */
function recorder(): ByteSink & { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = {
    write(chunk: string | Uint8Array) {
      chunks.push(Buffer.from(chunk));
      return true;
    },
    bytes: () => Buffer.concat(chunks),
  };
  return sink;
}

const errno = (code: string) => Object.assign(new Error(code), { code });

describe('which descriptors are written directly', () => {
  it('a file is; /dev/null (a character device, like a terminal) and a closed descriptor are not', () => {
    const fd = openSync(path.join(dir, 'kind.txt'), 'w');
    expect(isPipeOrFile(fd)).toBe(true);
    closeSync(fd);
    expect(isPipeOrFile(fd)).toBe(false);
    const devNull = openSync('/dev/null', 'w');
    expect(isPipeOrFile(devNull)).toBe(false);
    closeSync(devNull);
  });
});

describe('directOutput', () => {
  it('writes every byte to a file, in order, and says it is no terminal', () => {
    const file = path.join(dir, 'out.txt');
    const fd = openSync(file, 'w');
    const out = directOutput(fd, () => {
      throw new Error('no fallback for a file');
    });
    expect(out.isTTY).toBe(false);
    out.write(TEXT);
    out.write('second line\n');
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe(`${TEXT}second line\n`);
  });

  it('a write taken in pieces is finished', () => {
    const written: Buffer[] = [];
    const out = directOutput(1, recorder, (_fd, bytes, offset) => {
      const piece = Buffer.from(bytes.subarray(offset, offset + 3));
      written.push(piece);
      return piece.length;
    });
    out.write(TEXT);
    expect(Buffer.concat(written).toString('utf8')).toBe(TEXT);
  });

  it('a full pipe (EAGAIN) hands the rest, bytes as they are, and all later output to the stream', () => {
    const sink = recorder();
    let taken = Buffer.alloc(0);
    let calls = 0;
    const out = directOutput(
      1,
      () => sink,
      (_fd, bytes, offset) => {
        calls++;
        // Takes the first 8 bytes (cutting "✓" in two), then refuses.
        if (calls > 1) throw errno('EAGAIN');
        taken = Buffer.from(bytes.subarray(offset, offset + 8));
        return taken.length;
      },
    );
    out.write(TEXT);
    out.write('after\n');
    expect(calls).toBe(2);
    expect(Buffer.concat([taken, sink.bytes()]).toString('utf8')).toBe(`${TEXT}after\n`);
  });

  it('a reader that has gone (EPIPE) drops the output without an error or a fallback', () => {
    let calls = 0;
    const out = directOutput(
      1,
      () => {
        throw new Error('no fallback after EPIPE');
      },
      () => {
        calls++;
        throw errno('EPIPE');
      },
    );
    expect(out.write(TEXT)).toBe(true);
    expect(out.write('more\n')).toBe(true);
    expect(calls).toBe(1);
  });
});
