/**
 * The one writer of every JSON record canary prints or stores: rollout events (stdout with
 * `--output json`, `--output-file`, the journal), what status, history, rollback, validate,
 * simulate and the control commands print with `-o json`, and webhook bodies. docs/events.md is
 * the contract; src/output/record-schemas.ts holds a JSON Schema per record type, against which
 * the tests check real output.
 *
 * Every record is one JSON object with `type` and `version` first (a reader can dispatch on the
 * first bytes of a line) and snake_case keys at every depth. Some of the engine's older fields
 * are camelCase in the code (SHAPE): they are renamed here, once, at the edge, and renamed back
 * by `fromRecord` when canary reads its own journal. New fields are snake_case in the code too;
 * test/output/record.test.ts writes one event of every type and holds every key to snake_case.
 *
 * No imports: the rollback and control bundles load this.
 */

/**
 * The records' schema version, one number for every record type.
 * 4: one contract. snake_case keys everywhere, `type` and `version` on every record, journals in
 *    the same form as the event stream (`version` in place of `v`). Before it the event stream
 *    and the other commands' `-o json` were at 1 (events camelCase) and journals at 3 (`v`):
 *    4 is the next number after both, so no version number ever meant two different things.
 */
export const RECORD_VERSION = 4;

/**
 * Where the code spells a record's field in camelCase, by place in the record: the record's own
 * fields, then the objects under `stages`, `evaluation` (and its `checks`) and `check`. Renaming
 * by place, not by pattern, keeps data (version tags, metric ids, the plan as written, a user's
 * model parameters) as it is, and tells a code field apart from a snake_case one of the same
 * name elsewhere (the evaluation's `canaryRequests` vs `pooled.canary_requests`).
 */
interface Shape {
  /** camelCase names at this level. */
  names: readonly string[];
  /** Objects (or arrays of them) under these keys, named as written. */
  children?: Record<string, Shape>;
}

const SHAPE: Shape = {
  names: [
    'metricsSource',
    'startStage',
    'stageCount',
    'bakeMs',
    'consecutiveFailures',
    'failureLimit',
    'bakeElapsedMs',
    'nextCheckAt',
    'minRequests',
    'deadlineAt',
    'exitCode',
    'durationMs',
    'manualCommand',
    'planHash',
    'inProcessEmulator',
    'apiKeyEnv',
    'apiKeyFile',
    'rollbackDeadlineMs',
  ],
  children: {
    stages: { names: ['bakeMs'] },
    evaluation: {
      names: ['windowStart', 'windowEnd', 'canaryRequests', 'minRequests'],
      children: { checks: { names: ['pValue'] } },
    },
    check: { names: ['exitCode', 'timedOut', 'durationMs'] },
  },
};

export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** One direction of the rename, compiled: names at this level, and the shapes below it. */
interface Renames {
  names: ReadonlyMap<string, string>;
  children: ReadonlyMap<string, Renames>;
}

function compile(shape: Shape, toSnake: boolean): Renames {
  const names = new Map(shape.names.map((k) => (toSnake ? [k, snakeCase(k)] : [snakeCase(k), k])));
  const children = new Map(
    Object.entries(shape.children ?? {}).map(([key, child]) => [key, compile(child, toSnake)] as const),
  );
  return { names, children };
}

const TO_SNAKE = compile(SHAPE, true);
const FROM_SNAKE = compile(SHAPE, false);

function rename(value: unknown, renames: Renames): unknown {
  if (Array.isArray(value)) return value.map((v) => rename(v, renames));
  if (value === null || typeof value !== 'object') return value;
  return renameInto({}, value as Record<string, unknown>, renames, false);
}

/**
 * Copies `value`'s defined fields into `out` under their record names; `top` leaves out `type`
 * and `version` (the record's own). Straight into the record, and by Object.keys, not
 * Object.entries: no pair array per field and no copies of the body, on every record of an
 * hours-long rollout.
 */
function renameInto(
  out: Record<string, unknown>,
  value: Record<string, unknown>,
  renames: Renames,
  top: boolean,
): Record<string, unknown> {
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === undefined || (top && (key === 'type' || key === 'version'))) continue;
    const child = renames.children.get(key);
    out[renames.names.get(key) ?? key] = child ? rename(v, child) : v;
  }
  return out;
}

export type JsonRecord = { type: string; version: number } & Record<string, unknown>;

/**
 * A record: `type` and `version` first, then the body's fields in snake_case (undefined ones
 * left out). A `type` or `version` in the body is ignored: the arguments name the record.
 */
export function toRecord(type: string, body: object, lead?: object): JsonRecord {
  const out: Record<string, unknown> = { type, version: RECORD_VERSION };
  if (lead !== undefined) renameInto(out, lead as Record<string, unknown>, TO_SNAKE, true);
  return renameInto(out, body as Record<string, unknown>, TO_SNAKE, true) as JsonRecord;
}

/**
 * One NDJSON line: the record and a newline. `lead`: fields that go before the body's, as in
 * `{ ...lead, ...body }` but without building that object (the journal's `run` and `seq`, the
 * event stream's `time`: two records per look of an hours-long rollout).
 *
 * The body is renamed and serialised once per event, not once per line: the journal and
 * `-o json` (and `--output-file`) write the same event one after the other, in the same turn
 * of the event loop, each with its own lead. The line is byte for byte the JSON of the whole
 * record (test/output/record-line.test.ts holds the two together). A body is read once per
 * turn: change it, and its next line is written from the change after the turn ends.
 */
export function recordLine(type: string, body: object, lead?: object): string {
  const fields = bodyFields(type, body);
  if (fields === null) return wholeLine(type, body, lead);
  let head = `{"type":${JSON.stringify(type)},"version":${RECORD_VERSION}`;
  if (lead !== undefined) {
    const leadFields = renameInto({}, lead as Record<string, unknown>, TO_SNAKE, true);
    for (const key in leadFields) {
      // A body field of a lead's name takes the lead's place in the record: build that record.
      if (isIndex(key) || key === 'toJSON' || Object.hasOwn(fields.record, key)) {
        return wholeLine(type, body, lead);
      }
    }
    const inner = JSON.stringify(leadFields).slice(1, -1);
    if (inner !== '') head += `,${inner}`;
  }
  return fields.json === '' ? `${head}}\n` : `${head},${fields.json}}\n`;
}

/** The line as the JSON of the whole record, built as one object. */
function wholeLine(type: string, body: object, lead: object | undefined): string {
  return `${JSON.stringify(toRecord(type, body, lead))}\n`;
}

/** A body's fields: renamed, and serialised without their braces ('' when there are none). */
interface BodyFields {
  body: object;
  type: string;
  record: Record<string, unknown>;
  json: string;
}

/** The last body serialised, for the next line of the same event; forgotten at the end of the turn. */
let lastBody: BodyFields | undefined;

/**
 * null when the fields alone cannot be spliced into the record: an index-like key ("0"), which
 * JSON puts before `type`, or a `toJSON` field, which JSON would call on the whole record.
 */
function bodyFields(type: string, body: object): BodyFields | null {
  if (lastBody !== undefined && lastBody.body === body && lastBody.type === type) return lastBody;
  const record = renameInto({}, body as Record<string, unknown>, TO_SNAKE, true);
  if (Object.hasOwn(record, 'toJSON')) return null;
  for (const key in record) {
    if (isIndex(key)) return null;
    break; // index-like keys come first, if there are any
  }
  // Same turn only: the next event is a new object, and a body changed later is read afresh.
  if (lastBody === undefined) queueMicrotask(forgetBody);
  lastBody = { body, type, record, json: JSON.stringify(record).slice(1, -1) };
  return lastBody;
}

function forgetBody(): void {
  lastBody = undefined;
}

/** An array index as a property key ("0", "17"): objects order those first. */
function isIndex(key: string): boolean {
  return /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 4_294_967_295;
}

/**
 * A stored record back in the code's own names (the journal reader). A record of this contract
 * (`version` ≥ 4) gets its camelCase fields back and its version as `v`, as journals before it
 * spelled it; an older journal record (camelCase already, `v: 1`–`3`) is returned as it is.
 */
export function fromRecord<T>(record: Record<string, unknown>): T {
  if (typeof record.v === 'number' || typeof record.version !== 'number') return record as T;
  const { version, ...rest } = record;
  return { v: version, ...(rename(rest, FROM_SNAKE) as object) } as T;
}
