/**
 * Debian's headless Chromium, driven by playwright-core, for the report's browser tests and the
 * README screenshot. `.ci/run` installs the `chromium` package when it is missing. The page is
 * opened from a file:// URL in a fresh profile with every background service off, so any
 * request it makes beyond its own file is the page's, and is recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { findChromium, launchChromium } from '../../scripts/chromium.mjs';

export const CHROMIUM = findChromium();

export interface OpenedPage {
  page: Page;
  /** console errors and uncaught exceptions, as text. */
  errors: string[];
  /** Every request that is not the page's own file. */
  requests: string[];
}

export interface Browser {
  open(file: string, opts?: { colorScheme?: 'light' | 'dark'; width?: number }): Promise<OpenedPage>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('no chromium on PATH (Debian: apt-get install chromium)');
  const profile = mkdtempSync(path.join(tmpdir(), 'canary-chromium-'));
  const context = await launchChromium(CHROMIUM, profile, { width: 1200, height: 900 });
  return {
    async open(file, opts = {}) {
      const page = await context.newPage();
      await page.setViewportSize({ width: opts.width ?? 1200, height: 900 });
      await page.emulateMedia({ colorScheme: opts.colorScheme ?? 'light' });
      const errors: string[] = [];
      const requests: string[] = [];
      const own = pathToFileURL(file).href;
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
      page.on('request', (r) => {
        if (r.url() !== own) requests.push(r.url());
      });
      await page.goto(own, { waitUntil: 'load' });
      return { page, errors, requests };
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface Pixels {
  width: number;
  height: number;
  /** Share of pixels that differ from the most common colour (the background). */
  drawn: number;
  /** Whether some pixel is near this colour (#rrggbb), within `tolerance` per channel. */
  has(hex: string, tolerance?: number): boolean;
}

/** Reads a PNG screenshot's pixels. */
export function pixels(png: Buffer): Pixels {
  const image = PNG.sync.read(png);
  const counts = new Map<number, number>();
  const { data, width, height } = image;
  for (let i = 0; i < data.length; i += 4) {
    const key = ((data[i] as number) << 16) | ((data[i + 1] as number) << 8) | (data[i + 2] as number);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const background = Math.max(...counts.values());
  return {
    width,
    height,
    drawn: 1 - background / (width * height),
    has(hex, tolerance = 24) {
      const [r, g, b] = [1, 3, 5].map((at) => Number.parseInt(hex.slice(at, at + 2), 16)) as [
        number,
        number,
        number,
      ];
      for (let i = 0; i < data.length; i += 4) {
        if (
          Math.abs((data[i] as number) - r) <= tolerance &&
          Math.abs((data[i + 1] as number) - g) <= tolerance &&
          Math.abs((data[i + 2] as number) - b) <= tolerance
        )
          return true;
      }
      return false;
    },
  };
}
