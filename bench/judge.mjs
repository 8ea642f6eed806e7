// Runs bench/judge.ts: Node 20 cannot run TypeScript, so esbuild bundles it (our sources
// included, packages left to node_modules) into node_modules/.cache and that file is run.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = new URL('../node_modules/.cache/canary-judge/', import.meta.url);
await mkdir(outdir, { recursive: true });
const outfile = fileURLToPath(new URL('judge.mjs', outdir));
const debug = process.argv[2] === 'debug';
await build({
  entryPoints: [fileURLToPath(new URL('judge.ts', import.meta.url))],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
process.env.JUDGE_ROOT ??= root;
process.env.JUDGE_RUN = '1';
const module = await import(pathToFileURL(outfile).href);
if (debug) await module.debugMain(process.argv.slice(3));
if (process.argv[2] === 'custom') await module.customMain(process.argv.slice(3));
