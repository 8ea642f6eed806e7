/**
 * The browser half of the report (src/report/client.ts, built by scripts/build.mjs into
 * dist/report-client.js). The report bundle replaces this module with the script's text, so an
 * installed canary never reads it from disk; running from source, it is read from dist/.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function clientScript(): string {
  if (cached !== undefined) return cached;
  const file = fileURLToPath(new URL('../../dist/report-client.js', import.meta.url));
  try {
    cached = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} is missing: run \`npm run build\` to build the report's browser script.`);
  }
  return cached;
}
