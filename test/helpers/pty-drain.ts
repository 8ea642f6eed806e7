/**
 * Every byte the CLI printed, before its exit is reported.
 *
 * Two layers under node-pty drop the end of a pty's output when the test process reads more
 * slowly than the CLI writes (a loaded machine, a busy worker), and then report the exit:
 * - libuv: when the terminal hangs up (the CLI exited) after a read that did not fill its 64 KB
 *   buffer (a pty hands out at most 4 KB a read), it reports end of file at once, though the
 *   kernel still holds unread output (uv__stream_io's POLLHUP short-cut; node-pty#85);
 * - node-pty (1.1.0, and its main branch as of this writing) reports the exit once its stream has
 *   closed, but destroys the stream 200 ms after the exit if it has not, unread output and all
 *   (DESTROY_SOCKET_TIMEOUT_MS in its unixTerminal; node-pty#72, open).
 * Measured here, a reader taking 20 ms a chunk lost the last 5–7 KB of a 99 KB output in every
 * run, and a reader doing nothing else lost the end in 1 run of 40 on a loaded machine.
 *
 * Both end the stream the same ways: Node pushes its end (end of file), or destroys it (a read
 * error such as EIO, or node-pty giving up). Just before either, this reads the terminal's file
 * synchronously until nothing is left (EAGAIN: empty for now; EIO: empty and hung up) and hands
 * what it finds to the stream as ordinary output, so every onData listener sees it before the
 * exit. Nothing is waited for: by then the CLI has exited and everything it wrote is in the
 * kernel's buffer. (Output a process it left behind writes later is not: that one still holds
 * the terminal, and node-pty gives up on it as before.)
 */
import { readSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { IPty } from 'node-pty';

export interface Drain {
  /** Bytes read from the terminal after libuv or node-pty had decided its output was over. */
  recovered(): number;
}

export function drainAtEnd(child: IPty): Drain {
  // node-pty keeps the master side as `_fd` and its tty.ReadStream as `_socket`.
  const { _socket: socket, _fd: fd } = child as unknown as { _socket?: Socket; _fd?: number };
  if (
    !socket ||
    typeof socket.destroy !== 'function' ||
    typeof socket.push !== 'function' ||
    typeof fd !== 'number'
  ) {
    throw new Error(
      'node-pty no longer keeps its stream as _socket and its file as _fd: re-check test/helpers/pty-drain.ts against its unixTerminal',
    );
  }
  let recovered = 0;
  let ended = false;
  const buffer = Buffer.alloc(64 * 1024);
  const push = socket.push.bind(socket);
  const destroy = socket.destroy.bind(socket);
  /** Pushes what the kernel still holds, as the stream's own reads would have. */
  const readRest = () => {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, buffer.length, null);
      } catch {
        return; // EAGAIN (nothing now), EIO (nothing, hung up), EBADF (already closed)
      }
      if (n === 0) return;
      recovered += n;
      push(Buffer.from(buffer.subarray(0, n)));
    }
  };
  socket.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk === null && !ended) {
      readRest();
      ended = true;
    }
    return push(chunk, encoding);
  };
  socket.destroy = (error?: Error) => {
    if (!ended && !socket.destroyed) {
      readRest();
      ended = true;
    }
    return destroy(error);
  };
  return { recovered: () => recovered };
}
