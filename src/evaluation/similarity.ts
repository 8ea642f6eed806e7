/**
 * Agreement between two answers: 1 − the word-level Levenshtein distance divided by the longer
 * answer's word count, in [0, 1]. Words, not characters: "The refund is issued in 5 days" and
 * "Refunds are issued within 5 days" should agree more than their letters say, and a reordered
 * sentence should cost what it costs a reader. The distance is fastest-levenshtein's (Myers'
 * bit-parallel algorithm); each distinct word becomes one character so the library compares words.
 */
import { distance } from 'fastest-levenshtein';

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Most words compared per answer; past it the tails are ignored (an answer's start says the most). */
const MAX_WORDS = 2_000;

export function agreement(a: string, b: string): number {
  const wa = words(a).slice(0, MAX_WORDS);
  const wb = words(b).slice(0, MAX_WORDS);
  if (wa.length === 0 && wb.length === 0) return 1;
  const codes = new Map<string, string>();
  const encode = (list: string[]) =>
    list
      .map((w) => {
        let c = codes.get(w);
        if (c === undefined) {
          // From the private-use area up: one UTF-16 unit each for the first ~8,000 distinct words.
          c = String.fromCodePoint(0xe000 + codes.size);
          codes.set(w, c);
        }
        return c;
      })
      .join('');
  const sa = encode(wa);
  const sb = encode(wb);
  const longest = Math.max(wa.length, wb.length);
  // Past ~8,000 distinct words a code point takes two units on both sides: still a distance.
  const d = distance(sa, sb);
  return Math.max(0, 1 - d / Math.max(longest, sa.length, sb.length));
}
