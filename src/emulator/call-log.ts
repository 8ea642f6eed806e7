import type { CallRecord } from './types.js';

export const CALL_LOG_CAPACITY = 10_000;
/** Bodies bigger than this are replaced by a note, so the log's memory stays bounded. */
const MAX_BODY_CHARS = 4_096;

/** The last CALL_LOG_CAPACITY calls, oldest first; older ones are dropped. */
export class CallLog {
  private readonly records: (CallRecord | undefined)[];
  private next = 0;
  private count = 0;

  constructor(private readonly capacity = CALL_LOG_CAPACITY) {
    this.records = new Array(capacity);
  }

  add(record: CallRecord): void {
    this.records[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  list(): CallRecord[] {
    const out: CallRecord[] = [];
    const first = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const record = this.records[(first + i) % this.capacity];
      if (record) out.push(structuredClone(record));
    }
    return out;
  }

  clear(): void {
    this.records.fill(undefined);
    this.next = 0;
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }
}

/** What the log keeps of a request body: the parsed JSON when small, else a note. */
export function loggedBody(raw: string, parsed: { ok: boolean; value?: unknown }): unknown {
  if (raw.length === 0) return undefined;
  if (raw.length > MAX_BODY_CHARS) return `[${raw.length} characters, not kept]`;
  return parsed.ok ? parsed.value : `[invalid JSON, ${raw.length} characters]`;
}
