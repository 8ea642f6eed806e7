/**
 * The live view for a person at a terminal: a header, the per-version table, the check verdicts
 * and a short event log, redrawn in place. Redraws are scheduled on a timer and throttled, so
 * `event()` only folds state and returns: the core is never delayed by the terminal.
 */
import type { ChalkInstance } from 'chalk';
import { renderEvaluationTable } from '../evaluation/format.js';
import { formatDuration, formatElapsed, outcomeHeadline, truncate, waitingText } from '../format.js';
import type { OutStream } from '../io.js';
import type { RolloutEvent } from '../rollout/events.js';
import { describeCheck, formatErrorControl } from './check-text.js';
import { FrameWriter } from './frame-writer.js';
import { describeEvent, type EventLine, weightsPhrase } from './lines.js';
import type { Reporter } from './reporter.js';
import { createChalk } from './select.js';
import { boundsFromChecks, renderVersionTable, type VersionRow, visibleWidth } from './table.js';
import { applyEvent, currentWeights, initialState, stageLabel, type ViewState } from './view-state.js';

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

interface LogEntry {
  at: number;
  line: EventLine;
}

export interface FrameInput {
  state: ViewState;
  log: readonly LogEntry[];
  chalk: ChalkInstance;
  width: number;
  now: number;
  footer?: string | undefined;
  /**
   * Terminal rows: the frame is kept to `height - 1` lines (the last one is the cursor's), the
   * event log giving up its oldest lines first, so nothing scrolls away and the footer with the
   * keys is always on screen.
   */
  height?: number | undefined;
}

const STATUS_MARK = { pass: '✓', fail: '✗', no_data: '?', hold: '‖' } as const;

function toneColor(chalk: ChalkInstance, tone: EventLine['tone'], text: string): string {
  switch (tone) {
    case 'good':
      return chalk.green(text);
    case 'bad':
      return chalk.red(text);
    case 'warn':
      return chalk.yellow(text);
    case 'dim':
      return chalk.dim(text);
    default:
      return text;
  }
}

function header(input: FrameInput): string[] {
  const { state, chalk, width, now } = input;
  const route = state.route ?? 'route ?';
  const versions = `${state.baseline ?? '?'} → ${state.canary ?? '?'}`;
  const title = `${chalk.bold('canary')} ${chalk.bold(truncate(route, Math.max(8, width - 7)))}`;
  // Route and tags on one line when they fit; otherwise the tags get a line of their own.
  const top =
    visibleWidth(title) + 2 + versions.length <= width
      ? [`${title}  ${versions}`]
      : [title, truncate(versions, width)];

  const parts: string[] = [];
  if (state.stage !== undefined) parts.push(chalk.bold(stageLabel(state)));
  parts.push(weightsPhrase(state));
  if (state.bakeMs !== undefined && state.stageStartedAt !== undefined && !state.finished) {
    const ev = state.evaluation;
    const fromEval = ev && ev.at >= state.stageStartedAt ? ev.bakeElapsedMs + Math.max(0, now - ev.at) : null;
    const elapsed = Math.min(state.bakeMs, Math.max(0, fromEval ?? now - state.stageStartedAt));
    parts.push(
      `bake ${formatDuration(elapsed)}/${formatDuration(state.bakeMs)} (${formatDuration(state.bakeMs - elapsed)} left)`,
    );
    if (ev && ev.at >= state.stageStartedAt && !state.paused && !state.rollingBack) {
      parts.push(`next check in ${formatDuration(Math.max(0, ev.nextCheckAt - now))}`);
    }
  }
  if (state.paused) parts.push(chalk.yellow('paused: waiting for a decision'));
  if (state.rollingBack && !state.finished) parts.push(chalk.red('rolling back'));
  return [...top, fitParts(parts, width)];
}

/** Joins ` · `-separated parts, dropping trailing ones that would wrap the line. */
function fitParts(parts: string[], width: number): string {
  let line = '';
  let visible = 0;
  for (const part of parts) {
    const add = (line ? 3 : 0) + visibleWidth(part);
    if (line && visible + add > width) break;
    line += (line ? ' · ' : '') + part;
    visible += add;
  }
  return line;
}

function verdictLine(input: FrameInput): string {
  const { state, chalk, now } = input;
  if (state.metricsError) {
    const m = state.metricsError;
    return chalk.yellow(`metrics read failed ${m.consecutive}/${m.limit}: ${m.message}`);
  }
  const ev = state.evaluation;
  if (state.waiting && (!ev || state.waiting.at >= ev.at)) {
    return chalk.yellow(waitingText(state.waiting, state.waiting.deadlineAt - now));
  }
  if (state.promptEval && !state.finished) {
    // Prompts to two versions and maybe a judge can take minutes with no other event: the
    // elapsed time moves with each tick, so the screen shows the wait is alive.
    const { startedAt, done, total } = state.promptEval;
    const answers = total === null ? '' : ` · ${done}/${total} answers`;
    return chalk.dim(
      `pre-traffic evaluation running${answers} · ${formatDuration(Math.max(0, now - startedAt))}`,
    );
  }
  if (!ev) return chalk.dim('checks: waiting for the first evaluation');
  const e = ev.evaluation;
  const head =
    e.verdict === 'pass'
      ? chalk.green(e.error_control ? `checks pass (${formatErrorControl(e.error_control)})` : 'checks pass')
      : e.verdict === 'fail'
        ? chalk.red(`checks FAIL ${ev.consecutiveFailures}/${ev.failureLimit}`)
        : e.verdict === 'hold'
          ? chalk.yellow('both versions degraded (shared incident): holding, bake paused')
          : chalk.yellow('checks: no data');
  const items = e.checks.map((c) => {
    const paint = c.status === 'pass' ? chalk.green : c.status === 'fail' ? chalk.red : chalk.yellow;
    return { text: `${STATUS_MARK[c.status]} ${describeCheck(c)}`, paint };
  });
  // analysis.metrics: a dry-run check in grey whatever it says (it decides nothing).
  for (const c of e.custom ?? []) {
    const paint = c.dry_run
      ? chalk.dim
      : c.status === 'pass'
        ? chalk.green
        : c.status === 'fail'
          ? chalk.red
          : chalk.yellow;
    items.push({ text: `${STATUS_MARK[c.status]} ${c.reason}`, paint });
  }
  return items.length > 0 ? wrapItems(`${head}:`, items, input.width) : head;
}

/**
 * Lays out check items after a head, breaking lines between items (then between words of an
 * item too wide for a line) so the terminal never splits a word like "baseline" in two.
 */
function wrapItems(
  head: string,
  items: { text: string; paint: (s: string) => string }[],
  width: number,
): string {
  const lines: string[] = [];
  let line = head;
  let used = visibleWidth(head);
  const INDENT = '  ';
  const push = (piece: string, paint: (s: string) => string, gap: string) => {
    if (used > 0 && used + gap.length + piece.length > width) {
      lines.push(line);
      line = INDENT;
      used = INDENT.length;
      gap = '';
    }
    line += gap + paint(piece);
    used += gap.length + piece.length;
  };
  items.forEach((item, n) => {
    const gap = n === 0 ? ' ' : '  ';
    if (INDENT.length + item.text.length <= width) {
      push(item.text, item.paint, gap);
      return;
    }
    item.text.split(' ').forEach((word, i) => {
      push(word, item.paint, i === 0 ? gap : ' ');
    });
  });
  lines.push(line);
  return lines.join('\n');
}

function tableRows(state: ViewState): VersionRow[] {
  const ev = state.evaluation?.evaluation;
  const { canary, baseline } = currentWeights(state);
  const checks = ev?.checks ?? [];
  return [
    {
      tag: state.baseline ?? ev?.baseline?.version_tag ?? '?',
      role: 'baseline',
      weight: baseline,
      metrics: ev?.baseline ?? null,
      bounds: boundsFromChecks(checks, ['threshold']),
    },
    {
      tag: state.canary ?? ev?.canary?.version_tag ?? '?',
      role: 'canary',
      weight: canary,
      metrics: ev?.canary ?? null,
      bounds: boundsFromChecks(checks),
      ...(ev ? { minRequests: ev.minRequests } : {}),
    },
  ];
}

/** The whole live frame as text: pure, so the pty tests and this file's tests see the same bytes. */
export function renderFrame(input: FrameInput): string {
  const { state, log, chalk, width } = input;
  const top = [
    ...header(input),
    '',
    renderVersionTable(tableRows(state), { chalk, width }),
    verdictLine(input),
  ]
    .join('\n')
    .split('\n');
  const footer = input.footer ? ['', chalk.dim(truncate(input.footer, width))] : [];
  const logLines: string[] = [];
  const origin = state.startedAt ?? log[0]?.at ?? 0;
  for (const entry of log) {
    const stamp = formatElapsed(entry.at - origin);
    const body = `${entry.line.tag ? `[${entry.line.tag}] ` : ''}${entry.line.text}`;
    // Truncated, not wrapped: a wrapped log line would make the frame jump in height.
    const text = truncate(body, Math.max(10, width - stamp.length - 1));
    logLines.push(`${chalk.dim(stamp)} ${toneColor(chalk, entry.line.tone, text)}`);
  }
  if (input.height === undefined || input.height <= 0) {
    return [...top, ...(logLines.length > 0 ? ['', ...logLines] : []), ...footer].join('\n');
  }
  // Fit the height: the log shrinks first (newest lines kept), then the top is cut, never the footer.
  const room = Math.max(1, input.height - 1);
  const logRoom = room - top.length - footer.length - 1;
  const shown = logRoom > 0 ? logLines.slice(-logRoom) : [];
  const body = [...top, ...(shown.length > 0 ? ['', ...shown] : [])];
  return [...body.slice(0, Math.max(0, room - footer.length)), ...footer].join('\n');
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
