/**
 * The relay client writes query strings by hand (src/relay/wire.ts, formQuery) rather than
 * through URLSearchParams, which cost each metrics read more than the rest of its request: the
 * relay must receive byte for byte what URLSearchParams would have sent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formQuery } from '../../src/relay/wire.js';

const same = (query: Record<string, string>) =>
  expect(formQuery(query)).toBe(new URLSearchParams(query).toString());

describe('formQuery', () => {
  it('writes what URLSearchParams writes, for any keys and values', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), (q) => {
        same(q);
      }),
      { numRuns: 2000 },
    );
  });

  it('escapes form encoding differences from encodeURIComponent, and lone surrogates', () => {
    same({ version_tag: "a b!'()~*-._%20+&=", start_time: '2026-12-03T10:00:00.000Z' });
    same({ tag: 'caf\u00e9 \u{1F600}', lone: '\ud800x\udc00' });
    same({});
  });
});
