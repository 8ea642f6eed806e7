/**
 * Output written straight to the process's file descriptor, for short commands whose output
 * goes to a pipe or a file (`canary validate` in a pre-commit hook or a CI step): Node builds
 * process.stdout for a pipe as a net.Socket, loading node:net and the stream machinery, and the
 * write completes asynchronously; together ≈ 2.5 ms of CPU, a tenth of `node -e 0`
 * (docs/benchmarks.md, "validate: its own entry"). fs.writeSync hands the bytes to the OS at
 * once, so nothing waits for a flush either.
 *
 * Only for pipes, files and sockets: a terminal keeps Node's tty stream (its width, its colour
 * depth). Only for commands that write a little and then exit: a blocking write to a pipe nobody
 * reads would hold the event loop, which `canary rollout` must never let happen (its timers decide
 * rollbacks), so it keeps the asynchronous streams.
 */
import { fstatSync, writeSync } from 'node:fs';

type WriteFd = (fd: number, bytes: Uint8Array, offset: number) => number;

/** What directOutput gives: an OutStream (src/io.ts), which this module does not import (io.ts imports it). */
export interface DirectStream {
  readonly isTTY: false;
  write(chunk: string): boolean;
}

/** Where output goes once the descriptor refuses it: a stream that takes bytes as they are. */
export interface ByteSink {
  write(chunk: string | Uint8Array): boolean;
}

/** Whether `fd` is a pipe, a file or a socket: a descriptor fs.writeSync can write and no terminal. */
export function isPipeOrFile(fd: number): boolean {
  try {
    const info = fstatSync(fd);
    return info.isFIFO() || info.isFile() || info.isSocket();
  } catch {
    return false;
  }
}

/**
 * An OutStream writing to `fd` synchronously. Should the descriptor refuse a write (a
 * non-blocking pipe that is full: EAGAIN), what is left of it and everything after goes to
 * `fallback()` (Node's own stream, which queues it), so nothing is lost and the order holds. A
 * reader that has gone (EPIPE: `canary validate plan.yaml | head -1`) is not an error: the rest
 * of the output is dropped, as processIo's streams drop it.
 */
export function directOutput(
  fd: number,
  fallback: () => ByteSink,
  write: WriteFd = (f, bytes, offset) => writeSync(f, bytes, offset),
): DirectStream {
  let handedOn: ByteSink | undefined;
  let readerGone = false;
  return {
    isTTY: false,
    write(chunk: string): boolean {
      if (handedOn) return handedOn.write(chunk);
      if (readerGone) return true;
      const bytes = Buffer.from(chunk, 'utf8');
      let done = 0;
      try {
        while (done < bytes.length) done += write(fd, bytes, done);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
          readerGone = true;
          return true;
        }
        // The rest as bytes: a write cut short may have split a character.
        handedOn = fallback();
        return handedOn.write(bytes.subarray(done));
      }
    },
  };
}
