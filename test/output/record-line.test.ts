/**
 * recordLine splices the lead's fields and the body's (serialised once per event, for the
 * journal and -o json alike) into one line: it must be byte for byte the JSON of the whole
 * record as toRecord builds it, whatever the body holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordLine, toRecord } from '../../src/output/record.js';

const whole = (type: string, body: object, lead?: object) =>
  `${JSON.stringify(toRecord(type, body, lead))}\n`;

/** Keys that matter: renamed ones, the leads', the record's own, index-like, odd ones. */
const key = fc.oneof(
  fc.constantFrom(
    'bakeMs',
    'evaluation',
    'stages',
    'check',
    'run',
    'seq',
    'time',
    'type',
    'version',
    '0',
    '7',
    '01',
    '4294967295',
    'toJSON',
    'at',
    'canaryRequests',
    'windowStart',
  ),
  fc.string({ maxLength: 6 }),
);
const leaf = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 3 }), tie('o')),
  o: fc.dictionary(key, tie('v'), { maxKeys: 4 }),
})).v;
const body = fc.dictionary(key, value, { maxKeys: 8 });
const lead = fc.oneof(
  fc.constant(undefined),
  fc.record({ run: fc.string({ maxLength: 6 }), seq: fc.nat() }),
  fc.record({ time: fc.string({ maxLength: 6 }) }),
  fc.dictionary(key, leaf, { maxKeys: 3 }),
);

describe('recordLine', () => {
  it('is the JSON of the whole record, for any body and lead', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), body, lead, (type, b, l) => {
        expect(recordLine(type, b, l)).toBe(whole(type, b, l));
      }),
      { numRuns: 3000 },
    );
  });

  it('writes one body under two leads in the same turn (the journal, then -o json) as two whole records', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), body, lead, lead, (type, b, l1, l2) => {
        expect(recordLine(type, b, l1)).toBe(whole(type, b, l1));
        expect(recordLine(type, b, l2)).toBe(whole(type, b, l2));
        // Another type for the same object is another record.
        expect(recordLine(`${type}x`, b, l2)).toBe(whole(`${type}x`, b, l2));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a body again in a later turn, so a changed body is written as changed', async () => {
    const event = { type: 'evaluation', at: 1, bakeMs: 5 };
    expect(recordLine('evaluation', event, { time: 'a' })).toBe(whole('evaluation', event, { time: 'a' }));
    await Promise.resolve();
    event.bakeMs = 6;
    expect(recordLine('evaluation', event, { time: 'a' })).toContain('"bake_ms":6');
  });
});
