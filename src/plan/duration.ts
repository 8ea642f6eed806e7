/**
 * Durations as plans write them (`30s`, `10m`, `1h30m`, `500ms`, `1d`), in milliseconds. The
 * format is strict, so that a typo never silently becomes some other bake (a lenient parser
 * reads `10 minutes please` as 10m), and a strict duration is just a sum of its parts. Until
 * issue 20 parse-duration did that sum; its unit pattern (a Unicode-letter regex) cost every
 * command reading a duration ≈ 0.35 ms to compile on first use, which `canary validate` and
 * `status` pay on every start. 200 000 random strict durations read the same with both.
 */
export const DURATION_FORMAT = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds for a strict duration string, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  if (typeof text !== 'string' || !DURATION_FORMAT.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART))
    ms += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  if (!Number.isFinite(ms)) return undefined;
  const rounded = Math.round(ms);
  return Number.isSafeInteger(rounded) ? rounded : undefined;
}

// Its inverse, a duration written as a plan would, is formatPlanDuration in src/format.ts.
