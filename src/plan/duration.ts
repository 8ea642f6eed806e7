/**
 * Durations as plans write them (`30s`, `10m`, `1h30m`, `500ms`, `1d`), in milliseconds.
 * parse-duration does the arithmetic, but it is lenient by design (it reads `10 minutes please`
 * as 10m), so the format is checked first: a typo must never silently become some other bake.
 */
import parse from 'parse-duration';

export const DURATION_FORMAT = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/** Milliseconds for a strict duration string, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  if (typeof text !== 'string' || !DURATION_FORMAT.test(text)) return undefined;
  const ms = parse(text);
  if (ms === null || !Number.isFinite(ms)) return undefined;
  const rounded = Math.round(ms);
  return Number.isSafeInteger(rounded) ? rounded : undefined;
}

// Its inverse, a duration written as a plan would, is formatPlanDuration in src/format.ts.
