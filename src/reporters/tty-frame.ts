/**
 * The live view's frame as text: header, per-version table, check verdicts, event log and
 * footer, fitted to the terminal's width and height. Pure (state in, string out), so the pty
 * tests and the unit tests see the same bytes; the TtyReporter (tty.ts) owns the timing, the
 * cursor and the terminal, and calls renderFrame() for each redraw.
 */
import type { ChalkInstance } from 'chalk';
import { formatDuration, formatElapsed, truncate, waitingText } from '../format.js';
import { describeCheck, formatErrorControl } from './check-text.js';
import { type EventLine, toneColor, weightsPhrase } from './lines.js';
import { boundsFromChecks, renderVersionTable, type VersionRow, visibleWidth } from './table.js';
import { currentWeights, stageLabel, type ViewState } from './view-state.js';

export interface LogEntry {
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
