/**
 * NDJSON for machines: each event exactly as the core emitted it, plus the schema `version` and
 * an ISO `time` beside the epoch-ms `at`. Writes nothing else to its stream, so `--output json`
 * can be piped straight into jq.
 */
import type { OutStream } from '../io.js';
import { EVENT_SCHEMA_VERSION, type RolloutEvent } from '../rollout/events.js';
import { formatIso } from './format.js';
import type { Reporter } from './reporter.js';

export function toJsonLine(event: RolloutEvent): string {
  // `type` and `version` lead so a reader can dispatch on the first bytes of a line.
  const { type, ...rest } = event;
  return `${JSON.stringify({ type, version: EVENT_SCHEMA_VERSION, time: formatIso(event.at), ...rest })}\n`;
}

export class JsonReporter implements Reporter {
  constructor(private readonly out: OutStream) {}

  event(event: RolloutEvent): void {
    try {
      this.out.write(toJsonLine(event));
    } catch {
      // Never throw into the core (a closed pipe, a value JSON cannot hold).
    }
  }

  async close(): Promise<void> {}
}
