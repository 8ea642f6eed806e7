/**
 * NDJSON for machines: each event as the core emitted it, written by the one record writer
 * (src/output/record.ts: `type` and `version` first, snake_case keys), with an ISO `time` beside
 * the epoch-ms `at`. Writes nothing else to its stream, so `--output json` can be piped
 * straight into jq. `--output-file` writes the same lines.
 */

import { formatIso } from '../format.js';
import type { OutStream } from '../io.js';
import { recordLine } from '../output/record.js';
import type { RolloutEvent } from '../rollout/events.js';
import type { Reporter } from './reporter.js';

export function toJsonLine(event: RolloutEvent): string {
  return recordLine(event.type, event, { time: formatIso(event.at) });
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
