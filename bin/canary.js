#!/usr/bin/env node
// Start-up is most of what `canary rollback` costs, so this shim does as little as it can:
// - `--version` is answered from dist/version.json without loading the CLI;
// - the CLI (one CommonJS bundle, see scripts/build.mjs) is compiled through node:vm with a V8
//   code cache kept next to it, one per command, so later runs skip parsing and compiling.
//   Node 20 has no compile cache for ES modules; this is the same technique for one file.
// Set NODE_DISABLE_COMPILE_CACHE=1 to run without the cache.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Script, constants as vmConstants } from 'node:vm';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const args = process.argv.slice(2);
const meta = JSON.parse(readFileSync(join(dist, 'version.json'), 'utf8'));

if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${meta.version}\n`);
} else {
  // undici parses HTTP in WebAssembly; V8 re-compiles that module with its optimising tier on
  // background threads, and process exit waits for them: about 0.2 s added to every rollback.
  // The baseline tier parses the relay's small answers just as well.
  setFlagsFromString('--liftoff-only');
  // `canary rollback` has its own, smaller bundle (src/rollback-entry.ts): the same rollback
  // command and program settings without the rest of the CLI.
  const fast = args[0] === 'rollback' && typeof meta.rollbackHash === 'string';
  const file = join(dist, fast ? 'rollback.cjs' : 'cli.cjs');
  const hash = fast ? meta.rollbackHash : meta.hash;
  const source = readFileSync(file, 'utf8');
  const useCache = !process.env.NODE_DISABLE_COMPILE_CACHE && typeof hash === 'string';
  // One cache per command: each holds the functions its command compiled, not just the first one run.
  const command = /^[a-z]+$/.test(args[0] ?? '') ? args[0] : 'other';
  const name = `${hash}-${process.version}-${process.arch}-${command}.bin`;
  const dirs = [
    join(dist, '.cache'),
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'canary'),
  ];
  let cachedData;
  if (useCache) {
    for (const dir of dirs) {
      try {
        cachedData = readFileSync(join(dir, name));
        break;
      } catch {}
    }
  }
  const script = new Script(Module.wrap(source), {
    filename: file,
    cachedData,
    // The build leaves no import() in the bundle; should one slip in, it loads the usual way.
    importModuleDynamically:
      vmConstants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((specifier) => import(specifier)),
  });
  if (useCache && (cachedData === undefined || script.cachedDataRejected)) {
    // Written on exit so the cache includes what this run compiled lazily; the CLI exits explicitly.
    process.once('exit', () => {
      const data = script.createCachedData();
      for (const dir of dirs) {
        try {
          mkdirSync(dir, { recursive: true });
          const temp = join(dir, `${name}.${process.pid}`);
          writeFileSync(temp, data);
          renameSync(temp, join(dir, name));
          return;
        } catch {}
      }
    });
  }
  const cli = { exports: {} };
  script.runInThisContext()(cli.exports, createRequire(file), cli, file, dist);
  await cli.exports.run();
}
