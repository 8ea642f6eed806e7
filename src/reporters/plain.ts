/**
 * One line per event for CI logs and pipes: no redraws, no cursor movement, and colour only
 * when the caller says so (forced). Every line starts with the time so a log read later still
 * tells how long each stage took.
 */
import type { ChalkInstance } from 'chalk';
import { formatClock, formatElapsed, formatIso } from '../format.js';
import type { OutStream } from '../io.js';
import type { RolloutEvent } from '../rollout/events.js';
import { describeEvent, paint } from './lines.js';
import type { Reporter } from './reporter.js';
import { createChalk } from './select.js';
import { applyEvent, initialState, type ViewState } from './view-state.js';

export interface PlainReporterOptions {
  color: boolean;
  /**
   * `relative` (default): `+mm:ss` since the first event; `iso`: wall-clock time of each event;
   * `both`: local wall-clock time then `+mm:ss` (`14:03:07 +01:12:30`), what the CLI prints, so
   * a multi-hour run's log says when as well as how long.
   */
  timestamps?: 'relative' | 'iso' | 'both';
}

export class PlainReporter implements Reporter {
  private readonly state: ViewState = initialState();
  private readonly chalk: ChalkInstance;
  private readonly timestamps: 'relative' | 'iso' | 'both';

  constructor(
    private readonly out: OutStream,
    options: PlainReporterOptions,
  ) {
    this.chalk = createChalk(options.color);
    this.timestamps = options.timestamps ?? 'relative';
  }

  event(event: RolloutEvent): void {
    try {
      const lines = describeEvent(event, this.state);
      applyEvent(this.state, event);
      const stamp = this.stamp(event.at);
      let text = '';
      for (const line of lines) text += `${this.chalk.dim(stamp)} ${paint(this.chalk, line)}\n`;
      this.out.write(text);
    } catch {
      // A reporter must never throw into the core; a lost line is the lesser harm.
    }
  }

  async close(): Promise<void> {}

  private stamp(at: number): string {
    if (this.timestamps === 'iso') return formatIso(at);
    const relative = formatElapsed(at - (this.state.startedAt ?? at));
    return this.timestamps === 'both' ? `${formatClock(at)} ${relative}` : relative;
  }
}
