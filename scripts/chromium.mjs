// Debian's headless Chromium, driven by playwright-core, as both the report's browser tests
// (test/e2e/browser.ts) and the README screenshot (scripts/report-screenshot.mjs) start it: a
// fresh profile with every background service off, so any request beyond the page's own file is
// the page's. Plain JavaScript so the script runs with node alone; types in chromium.d.mts.
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';

/** $CHROMIUM_PATH, else `chromium` or `chromium-browser` on PATH; undefined when there is none. */
export function findChromium() {
  for (const name of [process.env.CHROMIUM_PATH, 'chromium', 'chromium-browser']) {
    if (!name) continue;
    const found = spawnSync('sh', ['-c', `command -v "${name}"`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  return undefined;
}

/** The flags the brief asks for; playwright adds --headless and its own automation flags. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Headless Chromium on the profile folder `profile` (the caller removes it after close()). */
export function launchChromium(executablePath, profile, viewport) {
  return chromium.launchPersistentContext(profile, { executablePath, headless: true, args: FLAGS, viewport });
}
