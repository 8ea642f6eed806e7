import { z } from 'zod';
import { validation } from './api-error.js';
import { FAULT_MODES, type Fault } from './types.js';

export const faultSchema = z
  .strictObject({
    mode: z.enum(FAULT_MODES),
    count: z.number().int().min(1).max(1_000_000).default(1),
    retry_after_seconds: z.number().int().min(0).max(86_400).optional(),
    status: z.number().int().min(300).max(599).optional(),
    path_prefix: z.string().startsWith('/').optional(),
    method: z.enum(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']).optional(),
  })
  .refine((f) => f.status === undefined || (f.mode === 'redirect') === f.status < 400, {
    message: 'status must be 3xx for redirect and 5xx for server_error',
    path: ['status'],
  })
  .refine((f) => f.status === undefined || f.status < 400 || f.status >= 500, {
    message: 'status must be 3xx or 5xx',
    path: ['status'],
  });

/** Validates a fault from JSON; a bad one is a 422 naming the field. */
export function parseFault(body: unknown): Fault {
  const result = faultSchema.safeParse(body);
  if (result.success) {
    const fault: Fault = { mode: result.data.mode, count: result.data.count };
    if (result.data.retry_after_seconds !== undefined)
      fault.retry_after_seconds = result.data.retry_after_seconds;
    if (result.data.status !== undefined) fault.status = result.data.status;
    if (result.data.path_prefix !== undefined) fault.path_prefix = result.data.path_prefix;
    if (result.data.method !== undefined) fault.method = result.data.method;
    return fault;
  }
  const issue = result.error.issues[0];
  const field =
    issue?.code === 'unrecognized_keys'
      ? issue.keys[0]
      : issue?.path[0] === undefined
        ? undefined
        : String(issue.path[0]);
  throw validation(field, `${field ?? 'body'}: ${issue?.message ?? 'invalid fault'}`);
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
