#!/usr/bin/env node
// Start-up is most of what `canary rollback` costs, so this shim does as little as it can:
// - it is CommonJS: an ES module entry would start Node's ESM loader, and importing node:fs
//   there loads every stream class fs exposes, together about 9 ms of a rollback;
// - `--version` is answered from dist/version.json, and help pages from dist/help.json, without
//   loading the CLI;
// - the CLI (one CommonJS bundle, see scripts/build.mjs) is compiled through node:vm with a V8
//   code cache kept next to it, one per command, so later runs skip parsing and compiling.
//   Node 20 has no compile cache for CommonJS or ES modules; this is the same technique for one file.
// Set NODE_DISABLE_COMPILE_CACHE=1 to run without the cache.
'use strict';
const {
  accessSync,
  constants: fsConstants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} = require('node:fs');
const { join } = require('node:path');
const { Script, constants: vmConstants } = require('node:vm');

const dist = join(__dirname, '..', 'dist');
const args = process.argv.slice(2);
const meta = JSON.parse(readFileSync(join(dist, 'version.json'), 'utf8'));
// One cache per command: each holds the functions its command compiled, not just the first one run.
const command = /^[a-z]+$/.test(args[0] ?? '') ? args[0] : 'other';
/** Whether --liftoff-only is set: V8 ties a code cache to the flags it was made under. */
let liftoff = false;

if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  print(`${meta.version}\n`);
} else if (printHelpPage()) {
  // printed
} else if (args[0] === 'rollback' && typeof meta.rollbackHash === 'string') {
  // `canary rollback` has its own, smaller bundle (src/rollback-entry.ts): the same rollback
  // command without the rest of the CLI, which it loads only for what it hands on (a plan file,
  // a flag it does not read, the journal form at a terminal). It talks HTTP without undici
  // (src/relay/socket-transport.ts), so it needs neither the WebAssembly setting below nor
  // node:v8 (4 ms) to make it.
  load('rollback.cjs', meta.rollbackHash).run(async () => {
    liftoffOnly();
    return load('cli.cjs', meta.hash).main;
  });
} else if (typeof meta.commands?.[args[0]]?.hash === 'string' && !(args[0] === 'status' && proxied())) {
  // A command with a bundle of its own (lightBundles() in scripts/build-checks.mjs): the whole
  // program, flags and help, with only this command's code. \`canary validate\` in a pre-commit
  // hook reads, deserialises and initialises what validating runs, not 1.8 MB of CLI.
  // A form of it with less in it (LIGHT_FORMS: `status --route R` has no plan loader, so no
  // YAML) when the command line is flags alone.
  // A form has an entry of its own (src/status-route-entry.ts: no commander), which hands what it
  // does not read (help, a mistyped flag) to the command's whole bundle, loaded only then.
  // `canary validate` has an entry of its own for every command line (src/validate-entry.ts).
  const command = meta.commands[args[0]];
  const flagsForm = command['flags-only'];
  const form = flagsForm && flagsOnly(args.slice(1), flagsForm.valueFlags) ? flagsForm : command.always;
  // No --liftoff-only here: no command bundle carries undici, the one WebAssembly user
  // (LIGHT_EXCLUDES in scripts/build-checks.mjs refuses it).
  if (form) {
    load(form.file, form.hash).run(async () => {
      const { main } = load(command.file, command.hash);
      return (argv, io) => main(argv, io, args[0]);
    });
  } else {
    // Naming the command lets the program declare it alone (run() in src/cli.ts).
    load(command.file, command.hash).run(args[0]);
  }
} else {
  liftoffOnly();
  load('cli.cjs', meta.hash).run();
}

/**
 * Whether a forwarding proxy is configured (src/relay/proxy.ts reads the same variables): the
 * light `status` bundle talks through plain sockets, which know no proxies, so the full CLI
 * (with undici's proxy agent) runs it instead.
 */
function proxied() {
  return ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'].some(
    (n) => (process.env[n] ?? '').trim() !== '',
  );
}

/**
 * Whether every argument is a flag or the value of a flag declared to take one (`valueFlags`,
 * written by the build from the program's own declaration), so no positional argument is
 * there. When unsure it says no, and the command's whole bundle runs: a value attached (`-rR`,
 * `--route=R`) or a flag it does not know is never taken to swallow the next argument.
 */
function flagsOnly(rest, valueFlags) {
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--' || arg === '-' || !arg.startsWith('-')) return false;
    if (valueFlags.includes(arg)) i++;
  }
  return true;
}

/**
 * undici parses HTTP in WebAssembly; V8 re-compiles that module with its optimising tier on
 * background threads, and process exit waits for them: about 0.2 s added to a short command.
 * The baseline tier parses the relay's small answers just as well. Set before the full CLI is
 * compiled: V8 rejects a code cache made under other flags.
 */
function liftoffOnly() {
  require('node:v8').setFlagsFromString('--liftoff-only');
  liftoff = true;
}

/**
 * Prints a help page written at build time (dist/help.json) when the arguments ask only for one
 * and the terminal, if any, is at least as wide as the page. Returns false to run the CLI.
 */
function printHelpPage() {
  if (!args.some((a) => a === '--help' || a === '-h' || a === 'help') || args.length > 2) return false;
  let help;
  try {
    help = JSON.parse(readFileSync(join(dist, 'help.json'), 'utf8'));
  } catch {
    return false;
  }
  const page = help.pages[JSON.stringify(args)];
  const out = process.stdout;
  if (page === undefined || (out.isTTY && out.columns < help.width)) return false;
  print(page);
  return true;
}

/** Writes to stdout; a reader that has gone (`canary --help | head -1`) is not an error. */
function print(text) {
  process.stdout.on('error', () => {});
  process.stdout.write(text);
}

/** Compiles and runs one bundle through node:vm with its code cache; returns its exports. */
function load(bundle, hash) {
  const file = join(dist, bundle);
  const source = readFileSync(file, 'utf8');
  const useCache = !process.env.NODE_DISABLE_COMPILE_CACHE && typeof hash === 'string';
  const name = `${hash}-${process.version}-${process.arch}-${command}.bin`;
  // Next to the bundle, else (a read-only install) in the user's cache folder, looked up only then.
  const dirs = [
    () => join(dist, '.cache'),
    () => join(process.env.XDG_CACHE_HOME || join(require('node:os').homedir(), '.cache'), 'canary'),
  ];
  let cachedData;
  /** The folder the cache was read from. */
  let cacheDir;
  if (useCache) {
    for (const dirOf of dirs) {
      try {
        const dir = dirOf();
        cachedData = readFileSync(join(dir, name));
        cacheDir = dir;
        break;
      } catch {}
    }
  }
  // CommonJS's own wrapper (Module.wrap), written out: loading node:module costs 0.5 ms.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
  const script = new Script(wrapped, {
    filename: file,
    cachedData,
    // The build leaves no import() in the bundle; should one slip in, it loads the usual way.
    importModuleDynamically:
      vmConstants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((specifier) => import(specifier)),
  });
  if (useCache) {
    const fresh = cachedData === undefined || script.cachedDataRejected;
    const flagsAtLoad = liftoff;
    // Written on exit so the cache includes what this run compiled lazily; the CLI exits explicitly.
    process.once('exit', (code) => {
      // Only from a run that succeeded: the cache keeps what its run compiled, so one made by a
      // first run that failed (no key set, say) would leave every later rollback compiling its
      // whole success path: ~3 ms each.
      if (code !== 0) return;
      // `rollback plan.yaml` sets the flag after loading the rollback bundle: a cache made now
      // would be refused by the next `rollback --route`, and the two forms would keep rewriting it.
      if (liftoff !== flagsAtLoad) return;
      // An accepted cache is written again once for each new shape of command line (a marker
      // file per shape): one made by `status -o json` lacks the table, which every later
      // `status -o plain` compiled again (≈ 1.6 ms of 40, docs/benchmarks.md). Written from a run
      // that loaded it, the new cache holds what both runs compiled.
      const seen = `${name}.${shapeOf(args)}`;
      if (!fresh && (existsSync(join(cacheDir, seen)) || !writable(cacheDir))) return;
      const data = script.createCachedData();
      for (const dirOf of fresh ? dirs : [() => cacheDir]) {
        try {
          const dir = dirOf();
          mkdirSync(dir, { recursive: true });
          const temp = join(dir, `${name}.${process.pid}`);
          writeFileSync(temp, data);
          renameSync(temp, join(dir, name));
          writeFileSync(join(dir, seen), '');
          return;
        } catch {}
      }
    });
  }
  const module = { exports: {} };
  // The bundles require nothing but Node's built-ins (scripts/build.mjs bundles every package),
  // which this file's own require loads as well as one made for dist/ would, without making one.
  script.runInThisContext()(module.exports, require, module, file, dist);
  return module.exports;
}

/**
 * The shape of a command line, as far as the code it runs goes: the flags it names (not their
 * values, but the output mode's), as a short hash for a file name. `status --route a -o json`
 * and `status --route b --output=json` share one; `-o plain` is another.
 */
function shapeOf(argv) {
  const flags = new Set();
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') break;
    if (arg.length < 2 || !arg.startsWith('-')) continue;
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    if (flag === '-o' || flag === '--output') flags.add(`-o ${eq < 0 ? argv[i + 1] : arg.slice(eq + 1)}`);
    else flags.add(flag);
  }
  // FNV-1a, 32 bits: a name, not a secret.
  let hash = 0x811c9dc5;
  for (const c of [...flags].sort().join(' ')) hash = Math.imul(hash ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return `seen-${hash.toString(16).padStart(8, '0')}`;
}

/** Whether this process may write in `dir` (one made by another user's first run may not be). */
function writable(dir) {
  try {
    accessSync(dir, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}
