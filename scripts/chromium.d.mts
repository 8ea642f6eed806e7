// Types for scripts/chromium.mjs, which Node runs as it is (scripts/report-screenshot.mjs).
import type { BrowserContext } from 'playwright-core';
export declare function findChromium(): string | undefined;
export declare function launchChromium(
  executablePath: string,
  profile: string,
  viewport: { width: number; height: number },
): Promise<BrowserContext>;
