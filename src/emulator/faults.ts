import { readJson } from '../shape/json-tree.js';
import type { Entry, ShapeReader } from '../shape/reader.js';
import { validation } from './api-error.js';
import { FAULT_MODES, type Fault } from './types.js';

const FAULT_KEYS = ['mode', 'count', 'retry_after_seconds', 'status', 'path_prefix', 'method'] as const;
const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;

const whole = (min: number, max: number) => (n: number) => Number.isInteger(n) && n >= min && n <= max;

/** A fault as POST /_emulator/faults takes it, read with the shape reader plans are read with. */
function readFault<N>(r: ShapeReader<N>, root: Entry<N>): Fault | undefined {
  if (r.kind(root) !== 'map') {
    r.problem(root, 'expected a fault like {"mode": "server_error", "count": 2}');
    return undefined;
  }
  const fields = r.mapping(root, FAULT_KEYS);
  const mode = r.oneOf(r.required(fields, 'mode'), FAULT_MODES);
  const count = r.number(
    r.optional(fields, 'count'),
    'a whole number from 1 to 1000000',
    whole(1, 1_000_000),
  );
  const retryAfter = r.number(
    r.optional(fields, 'retry_after_seconds'),
    'a whole number of seconds from 0 to 86400',
    whole(0, 86_400),
  );
  const statusEntry = r.optional(fields, 'status');
  const status = r.number(statusEntry, 'an HTTP status from 300 to 599', whole(300, 599));
  const prefixEntry = r.optional(fields, 'path_prefix');
  const prefix = r.string(prefixEntry, "a path starting with '/'");
  if (prefixEntry && prefix !== undefined && !prefix.startsWith('/'))
    r.fail(prefixEntry, "a path starting with '/'");
  const method = r.oneOf(r.optional(fields, 'method'), METHODS);
  if (statusEntry && status !== undefined && mode !== undefined) {
    if (status >= 400 && status < 500) r.problem(statusEntry, 'status must be 3xx or 5xx');
    else if ((mode === 'redirect') !== status < 400) {
      r.problem(statusEntry, 'status must be 3xx for redirect and 5xx for server_error');
    }
  }
  if (mode === undefined) return undefined;
  const fault: Fault = { mode, count: count ?? 1 };
  if (retryAfter !== undefined) fault.retry_after_seconds = retryAfter;
  if (status !== undefined) fault.status = status;
  if (prefix !== undefined) fault.path_prefix = prefix;
  if (method !== undefined) fault.method = method;
  return fault;
}

/** Validates a fault from JSON; a bad one is a 422 naming the field. */
export function parseFault(body: unknown): Fault {
  const read = readJson('fault', body, readFault);
  if (read.ok) return read.value;
  const problem = read.problems[0];
  throw validation(problem?.path || undefined, problem?.message ?? 'invalid fault');
}

/** Faults waiting to answer the next matching API calls, first injected first used. */
export class FaultQueue {
  private faults: { fault: Fault; remaining: number }[] = [];

  add(fault: Fault): void {
    const checked = parseFault(fault);
    this.faults.push({ fault: checked, remaining: checked.count });
  }

  clear(): void {
    this.faults = [];
  }

  /** Uses up one answer of the first fault matching `path` (and `method`), if any. */
  take(path: string, method = 'GET'): Fault | undefined {
    const index = this.faults.findIndex(
      ({ fault }) =>
        (fault.method === undefined || fault.method === method) &&
        (fault.path_prefix === undefined ? path !== '/v1/health' : path.startsWith(fault.path_prefix)),
    );
    const entry = this.faults[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.faults.splice(index, 1);
    return entry.fault;
  }

  pending(): { fault: Fault; remaining: number }[] {
    return this.faults.map((entry) => ({ fault: { ...entry.fault }, remaining: entry.remaining }));
  }
}
