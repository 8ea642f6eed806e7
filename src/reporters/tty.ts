/**
 * The live view for a person at a terminal: a header, the per-version table, the check verdicts
 * and a short event log, redrawn in place. Redraws are scheduled on a timer and throttled, so
 * `event()` only folds state and returns: the core is never delayed by the terminal. What a frame
 * shows is drawn by tty-frame.ts; this file decides when, and owns the cursor and the terminal.
 */
import type { ChalkInstance } from 'chalk';
import { renderEvaluationTable } from '../evaluation/format.js';
import { outcomeHeadline } from '../format.js';
import type { OutStream } from '../io.js';
import type { RolloutEvent } from '../rollout/events.js';
import { FrameWriter } from './frame-writer.js';
import { describeEvent } from './lines.js';
import type { Reporter } from './reporter.js';
import { createChalk } from './select.js';
import { type LogEntry, renderFrame } from './tty-frame.js';
import { applyEvent, initialState, type ViewState } from './view-state.js';

/** At most ten frames a second: faster is invisible and costs the terminal. */
export const MIN_REDRAW_INTERVAL_MS = 100;
const DEFAULT_WIDTH = 100;
const LOG_LINES = 8;
const HIDE_CURSOR = '\u001B[?25l';
const SHOW_CURSOR = '\u001B[?25h';

export interface TtyReporterOptions {
  color: boolean;
  /** A clock for live countdowns; without one, time stands at the latest event's `at`. */
  now?: (() => number) | undefined;
  /** A last line under the frame (the keys an operator can press), read at each redraw. */
  footer?: (() => string | undefined) | undefined;
}

/** Whether an event earns a line in the log; routine passes and repeated waits would drown the rest. */
function worthLogging(event: RolloutEvent, state: ViewState): boolean {
  switch (event.type) {
    case 'evaluation': {
      // The core follows every no-data evaluation with a wait event: log the first of a run only.
      if (event.evaluation.verdict === 'no_data') {
        const previous = state.evaluation;
        return !(
          previous &&
          previous.at >= (state.stageStartedAt ?? 0) &&
          previous.evaluation.verdict === 'no_data'
        );
      }
      return event.evaluation.verdict === 'fail';
    }
    case 'waiting_for_data':
      return state.waiting === undefined;
    case 'rollout_finished':
      return false;
    case 'prompt_eval_finished':
      return false; // printed whole above the live view instead (see event())
    default:
      return true;
  }
}

export class TtyReporter implements Reporter {
  private readonly state: ViewState = initialState();
  private readonly log: LogEntry[] = [];
  private readonly chalk: ChalkInstance;
  private readonly now: (() => number) | undefined;
  private readonly render: FrameWriter;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private lastDrawAt = Number.NEGATIVE_INFINITY;
  private pendingPrefix = '';
  private cursorHidden = false;
  private seen = false;
  private closed = false;
  private suspended = false;
  private readonly footer: (() => string | undefined) | undefined;
  /** The terminal size the last frame was drawn for: a change means a resize. */
  private drawnSize: string | undefined;
  private readonly onResize = () => this.schedule();
  private readonly restoreCursor = () => {
    if (this.cursorHidden) this.out.write(SHOW_CURSOR);
    this.cursorHidden = false;
  };

  constructor(
    private readonly out: OutStream,
    options: TtyReporterOptions,
  ) {
    this.chalk = createChalk(options.color);
    this.now = options.now;
    this.footer = options.footer;
    // The cursor is hidden on this stream, in the same write as the first frame.
    const sink = {
      write: (chunk: string) => {
        const text = this.pendingPrefix + chunk;
        this.pendingPrefix = '';
        return this.out.write(text);
      },
      get isTTY() {
        return out.isTTY;
      },
    };
    this.render = new FrameWriter(sink);
    // Redraw at once on a resize, not at the next tick.
    if (out.isTTY && process.platform !== 'win32') process.on('SIGWINCH', this.onResize);
  }

  event(event: RolloutEvent): void {
    if (this.closed) return;
    try {
      if (event.type === 'prompt_eval_finished') this.persistEvaluation(event.report);
      const lines = describeEvent(event, this.state);
      const log = worthLogging(event, this.state);
      applyEvent(this.state, event);
      if (log) {
        for (const line of lines) this.log.push({ at: event.at, line });
        if (this.log.length > LOG_LINES) this.log.splice(0, this.log.length - LOG_LINES);
      }
      this.seen = true;
      if (this.now && !this.ticker) {
        // Countdowns move without events; a second is their resolution.
        this.ticker = setInterval(() => this.schedule(), 1000);
        this.ticker.unref?.();
      }
      this.schedule();
    } catch {
      // Never throw into the core.
    }
  }

  /**
   * Takes the live frame off the screen so a prompt can use the terminal; events keep being
   * folded in, and `resume()` draws the current state below whatever the prompt left.
   */
  suspend(): void {
    if (this.closed || this.suspended) return;
    this.suspended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      this.render.clear();
      this.restoreCursor();
    } catch {
      // The terminal went away.
    }
  }

  resume(): void {
    if (this.closed || !this.suspended) return;
    this.suspended = false;
    if (this.seen) this.schedule();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.suspended = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.ticker) clearInterval(this.ticker);
    this.timer = undefined;
    this.ticker = undefined;
    process.removeListener('SIGWINCH', this.onResize);
    try {
      if (this.seen) {
        this.draw();
        this.render.forget();
      }
      const finished = this.state.finished;
      let tail = '';
      if (finished) {
        const good = finished.outcome === 'promoted';
        const mark = good ? '✓' : finished.outcome === 'held' ? '!' : '✗';
        const line = `${mark} ${outcomeHeadline(finished.outcome, finished.summary)}`;
        tail += `${good ? this.chalk.green.bold(line) : finished.outcome === 'held' ? this.chalk.yellow.bold(line) : this.chalk.red.bold(line)}\n`;
        if (finished.next) tail += `next: ${finished.next}\n`;
      }
      if (this.cursorHidden) {
        tail += SHOW_CURSOR;
        this.cursorHidden = false;
      }
      if (tail) this.out.write(tail);
    } catch {
      // The terminal went away; nothing left to show it on.
    } finally {
      process.removeListener('exit', this.restoreCursor);
    }
  }

  private schedule(): void {
    if (this.closed || this.suspended || this.timer) return;
    const wait = Math.max(0, this.lastDrawAt + MIN_REDRAW_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.draw();
      } catch {
        // A failed frame is dropped; the next event schedules another.
      }
    }, wait);
    this.timer.unref?.();
  }

  private draw(): void {
    this.lastDrawAt = Date.now();
    if (!this.cursorHidden && this.out.isTTY) {
      this.pendingPrefix = HIDE_CURSOR;
      this.cursorHidden = true;
      process.once('exit', this.restoreCursor);
    }
    const width = this.out.columns && this.out.columns > 0 ? this.out.columns : DEFAULT_WIDTH;
    const now = this.now?.() ?? this.state.lastAt ?? 0;
    let footer: string | undefined;
    try {
      footer = this.finished() ? undefined : this.footer?.();
    } catch {
      footer = undefined;
    }
    const height = this.out.isTTY && this.out.rows && this.out.rows > 0 ? this.out.rows : undefined;
    const size = `${width}x${height ?? ''}`;
    if (this.drawnSize !== undefined && this.drawnSize !== size && this.out.isTTY) {
      // The terminal has reflowed the old frame to the new width: its height on screen is no
      // longer known, so erasing it line by line would leave fragments. Clear the screen and
      // draw the frame afresh from the top.
      this.render.forget();
      this.out.write('\u001B[2J\u001B[H');
    }
    this.drawnSize = size;
    this.render.draw(
      renderFrame({ state: this.state, log: this.log, chalk: this.chalk, width, now, footer, height }),
    );
  }

  /**
   * The evaluation's table stays in the scrollback above the live view, which the next frame
   * redraws below it.
   */
  private persistEvaluation(report: import('../evaluation/types.js').EvaluationReport): void {
    const width = this.out.columns && this.out.columns > 0 ? this.out.columns : DEFAULT_WIDTH;
    const text = renderEvaluationTable(report, this.chalk, width);
    // Written past log-update, whose persist() would cut a table taller than the terminal.
    try {
      if (!this.suspended) this.render.clear();
    } catch {
      // The terminal went away.
    }
    this.out.write(`${text}\n`);
  }

  private finished(): boolean {
    return this.state.finished !== undefined || this.closed;
  }
}
