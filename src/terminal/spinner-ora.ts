/**
 * ora, drawn through the Io's stderr (src/terminal/spinner.ts decides whether to draw at all).
 * Built apart as dist/spinner.cjs, required only when a spinner is shown. ora wants a Node
 * stream with the terminal's cursor methods; this one writes every byte, escape codes
 * included, through `out.write`, so redaction applies. ora is told to leave stdin alone (no
 * raw mode: Ctrl-C stays a signal canary handles) and the cursor shown (hiding it registers an
 * exit hook that writes to process.stderr behind the Io's back).
 */
import { Writable } from 'node:stream';
import ora from 'ora';
import type { OutStream } from '../io.js';

const CSI = '\u001b[';

/** A Writable that forwards to `out`, with the TTY surface ora uses. */
function terminalStream(out: OutStream) {
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      out.write(String(chunk));
      callback();
    },
  });
  return Object.assign(stream, {
    isTTY: true,
    get columns() {
      return out.columns ?? 80;
    },
    get rows() {
      return out.rows ?? 24;
    },
    cursorTo(x: number) {
      return out.write(`${CSI}${x + 1}G`);
    },
    moveCursor(dx: number, dy: number) {
      const horizontal = dx < 0 ? `${CSI}${-dx}D` : dx > 0 ? `${CSI}${dx}C` : '';
      const vertical = dy < 0 ? `${CSI}${-dy}A` : dy > 0 ? `${CSI}${dy}B` : '';
      return out.write(horizontal + vertical);
    },
    clearLine(direction: -1 | 0 | 1) {
      return out.write(`${CSI}${direction === 1 ? 0 : direction === -1 ? 1 : 2}K`);
    },
  });
}

export function drawSpinner(out: OutStream, text: string, color: boolean) {
  const spinner = ora({
    text,
    stream: terminalStream(out),
    isEnabled: true,
    discardStdin: false,
    hideCursor: false,
    color: color ? 'cyan' : false,
  }).start();
  return {
    update(next: string) {
      spinner.text = next;
    },
    stop() {
      spinner.stop();
    },
  };
}
