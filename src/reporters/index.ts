/**
 * The one place a command turns an output mode into a reporter. Streams follow the rule:
 * with `--output json` stdout carries only NDJSON (anything for people goes to stderr, written by
 * the command, never by the reporter); tty and plain are the human output and use stdout.
 */
import type { OutStream } from '../io.js';
import { JsonReporter } from './json.js';
import { PlainReporter } from './plain.js';
import type { OutputMode, Reporter } from './reporter.js';
import { TtyReporter } from './tty.js';

export interface ReporterStreams {
  stdout: OutStream;
  stderr: OutStream;
  color: boolean;
  /** A clock for the live view's countdowns (tty only). */
  now?: (() => number) | undefined;
  /** A last line under the live view, e.g. the keys an operator can press (tty only). */
  footer?: (() => string | undefined) | undefined;
}

export function createReporter(mode: OutputMode, options: ReporterStreams): Reporter {
  switch (mode) {
    case 'json':
      return new JsonReporter(options.stdout);
    case 'tty':
      return new TtyReporter(options.stdout, {
        color: options.color,
        now: options.now,
        footer: options.footer,
      });
    default:
      return new PlainReporter(options.stdout, { color: options.color, timestamps: 'both' });
  }
}

export { JsonReporter } from './json.js';
export { PlainReporter } from './plain.js';
export type { OutputMode, Reporter } from './reporter.js';
export { colorEnabled, createChalk, selectOutput } from './select.js';
export { TtyReporter } from './tty.js';
