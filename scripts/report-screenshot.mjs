// Makes docs/report-quickstart.png, the README's picture of `canary report`: runs the quickstart
// (built-in emulator, about 20 s) with --report, opens the page in Debian's headless Chromium and
// screenshots its top (header, timeline, first metric). Needs `npm run build` and `chromium`.
//   node scripts/report-screenshot.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findChromium, launchChromium } from './chromium.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'canary-shot-'));
const html = path.join(dir, 'quickstart.html');
const run = spawnSync(
  process.execPath,
  [
    path.join(root, 'bin/canary.cjs'),
    'rollout',
    path.join(root, 'examples/quickstart.yaml'),
    '--output',
    'plain',
    '--report',
    html,
    '--state-dir',
    path.join(dir, '.canary'),
  ],
  { stdio: 'inherit' },
);
if (run.status !== 0) throw new Error(`the quickstart exited ${run.status}`);
const executablePath = findChromium();
if (!executablePath) throw new Error('no chromium on PATH (Debian: apt-get install chromium)');
const context = await launchChromium(executablePath, path.join(dir, 'profile'), {
  width: 1100,
  height: 1900,
});
const page = await context.newPage();
await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
const out = path.join(root, 'docs/report-quickstart.png');
await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1100, height: 1900 } });
await context.close();
rmSync(dir, { recursive: true, force: true });
console.log(`wrote ${path.relative(root, out)}`);
