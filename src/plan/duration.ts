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

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/** The shortest plan-style text for a duration: 5400000 → `1h30m`, 0 → `0s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0s';
  let out = ms < 0 ? '-' : '';
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
