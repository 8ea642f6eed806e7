import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
/** The string-width cli-table3 would load, and the one the build gives it (scripts/build.mjs asciiWidth). */
const stringWidth: (s: unknown) => number = createRequire(require.resolve('cli-table3'))('string-width');
const asciiWidth: (s: unknown) => number = require('../../scripts/string-width-ascii.cjs');

const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));

describe("cli-table3's string-width with the printable-ASCII fast path", () => {
  it('measures every printable ASCII string of up to two characters as string-width does', () => {
    expect(asciiWidth('')).toBe(stringWidth(''));
    for (const a of PRINTABLE) {
      expect(asciiWidth(a)).toBe(stringWidth(a));
      for (const b of PRINTABLE) if (asciiWidth(a + b) !== stringWidth(a + b)) expect(a + b).toBe('');
    }
  });

  it('agrees with string-width on any string: ASCII, escapes, wide and combining characters, emoji', () => {
    const piece = fc.oneof(
      fc.string({ unit: fc.constantFrom(...PRINTABLE) }),
      fc.constantFrom('\x1b[1m', '\x1b[22m', '\x1b[31m', '\x1b[39m', '\x9b2m', '\t', '\n', '\x7f', '\u0301'),
      fc.constantFrom('é', '漢字', '😀', '👍🏽', '#️⃣', '1\u20e3', '🇫🇷', '\u200b', 'ｗｉｄｅ'),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), (pieces) => {
        const text = pieces.join('');
        expect(asciiWidth(text)).toBe(stringWidth(text));
      }),
      { numRuns: 3000 },
    );
    for (const odd of [undefined, null, 42, {}]) expect(asciiWidth(odd)).toBe(stringWidth(odd));
  });

  it('is what the bundles with a table give cli-table3', () => {
    for (const bundle of ['status-route.cjs', 'status.cjs', 'cli.cjs']) {
      const text = readFileSync(`${ROOT}dist/${bundle}`, 'utf8');
      expect(text, bundle).toContain('"scripts/string-width-ascii.cjs"');
    }
  });
});
