import { describe, expect, it } from 'vitest';
import { fromRecord, RECORD_VERSION } from '../../src/output/record.js';
import { createReporter } from '../../src/reporters/index.js';
import { JsonReporter } from '../../src/reporters/json.js';
import { CollectingStream, promotedRun, rolledBackRun, waitingRun } from './helpers.js';

/** Every key at every depth, outside maps whose keys are data (metrics per version tag). */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
}

describe('JsonReporter', () => {
  it.each([
    ['promoted', promotedRun],
    ['rolled back', rolledBackRun],
    ['waiting', waitingRun],
  ])('writes one parseable NDJSON line per event of a %s run', async (_name, make) => {
    const events = make();
    const out = new CollectingStream();
    const r = new JsonReporter(out);
    for (const e of events) r.event(e);
    await r.close();
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(events.length);
    lines.forEach((line, i) => {
      const parsed = JSON.parse(line);
      const event = events[i] as { type: string; at: number };
      expect(parsed.type).toBe(event.type);
      expect(parsed.version).toBe(RECORD_VERSION);
      expect(parsed.at).toBe(event.at);
      expect(parsed.time).toBe(new Date(event.at).toISOString());
      // Everything the core said is there, only renamed to snake_case: read back, it is the event.
      const { v: _v, time: _time, ...back } = fromRecord<Record<string, unknown>>(parsed);
      expect(back).toEqual(JSON.parse(JSON.stringify(event)));
      expect(line.startsWith(`{"type":"${event.type}","version":${RECORD_VERSION},`)).toBe(true);
      expect(keysOf(parsed).filter((k) => /[A-Z]/.test(k))).toEqual([]);
    });
  });

  it('keeps stdout pure JSON and writes nothing to stderr in json mode', async () => {
    const stdout = new CollectingStream(true, 100);
    const stderr = new CollectingStream(true, 100);
    const r = createReporter('json', { stdout, stderr, color: true });
    for (const e of rolledBackRun()) r.event(e);
    await r.close();
    expect(stderr.text).toBe('');
    for (const line of stdout.text.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(stdout.text).not.toContain('\u001B');
  });
});
