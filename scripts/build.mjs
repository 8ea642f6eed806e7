// Bundles the CLI for the fastest start Node allows (see docs/benchmarks.md for the figures).
//
// - One CommonJS bundle, dist/cli.cjs. Commands are still loaded lazily: esbuild turns each
//   `await import('./commands/x.js')` into a module that initialises on first use, so
//   `canary rollback` runs no prompt, table, chalk, emulator or plan-loader code. One file (not
//   chunks) lets bin/canary.cjs keep a V8 code cache of it, which Node 20 cannot do for ES
//   modules (module.enableCompileCache arrived in Node 22): without it, compiling the bundle
//   costs more than everything else a rollback does.
// - A second bundle, dist/rollback.cjs, from src/rollback-entry.ts: the same program settings
//   and rollback command (src/program.ts) without the other commands. bin/canary.cjs loads it
//   when the first argument is `rollback`, so an incident reads, deserialises and initialises
//   only what a rollback runs.
// - undici is in dist/cli.cjs only: `rollout` (Prometheus, webhooks, the evaluation's data plane),
//   `simulate`, and `status` or `rollback` through a forwarding proxy. No other bundle carries it
//   (the short commands and the rollback talk through the socket transports, src/relay/), so
//   what is trimmed here is for the full CLI's start, `canary rollout --dry-run` for one:
//   `undici` resolves to its Agent alone (the package's index also loads fetch, WebSocket,
//   cookies, caches and mocks, and through them Node's own bundled undici), without its HTTP/2
//   client and with node:assert deferred (together ≈ 15 ms of `rollout --dry-run`,
//   docs/benchmarks.md). Each is a module swapped whole, not an edit of undici's source.
// - dist/cli.js re-exports the bundle for anyone importing the CLI as an ES module.
// - dist/version.json lets bin/canary.cjs answer --version without loading anything, and
//   dist/help.json the same for every help page.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  belongsToCommand,
  checkBundleText,
  checkImportText,
  checkLightInputs,
  checkReportOutside,
  checkRollbackInputs,
  LIGHT_FORMS,
  lightBundles,
} from './build-checks.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = new URL('../dist/', import.meta.url);

/** The prompts src/ uses, filled in by checkImports. */
const promptsUsed = new Set();

async function checkImports() {
  const files = await readdir(new URL('../src/', import.meta.url), { recursive: true });
  for (const file of files.filter((f) => f.endsWith('.ts'))) {
    const text = await readFile(new URL(`../src/${file}`, import.meta.url), 'utf8');
    for (const name of checkImportText(`src/${file}`, text)['@inquirer/prompts'] ?? []) promptsUsed.add(name);
  }
}

/**
 * Resolves `undici` to its dispatcher and request API, the same code its index wires up for
 * request(); src/ calls nothing else (stream, pipeline, upgrade and connect stay out).
 */
const UNDICI_SLIM = `'use strict';
const Dispatcher = require('./lib/dispatcher/dispatcher');
// What undici's index does with its whole api/ folder, so agent.request() exists.
Dispatcher.prototype.request = require('./lib/api/api-request');
module.exports = {
  Agent: require('./lib/dispatcher/agent'),
  Dispatcher,
  // Loaded only when a proxy is configured (src/relay/proxy.ts): most runs never pay for it.
  get EnvHttpProxyAgent() {
    return require('./lib/dispatcher/env-http-proxy-agent');
  },
};
`;

/**
 * undici's HTTP/2 client loads node:http2 and node:tls when the module loads (≈ 14 ms of
 * `canary rollout --dry-run`); the relay client never enables HTTP/2 (allowH2 is off, so ALPN
 * never picks h2), and HTTPS still loads tls when it connects.
 */
const NO_H2 = `'use strict';
module.exports = function connectH2() {
  throw new Error('canary is built without undici HTTP/2 support (scripts/build.mjs)');
};
`;

/**
 * undici's proxy agent (src/relay/proxy.ts) also speaks SOCKS5, with a client of its own; canary
 * reads only HTTP(S)_PROXY, whose URLs are http(s), so a socks:// proxy is refused, not bundled.
 */
const NO_SOCKS = `'use strict';
module.exports = class Socks5ProxyAgent {
  constructor() {
    throw new Error('canary supports http:// and https:// proxies, not SOCKS (scripts/build.mjs)');
  }
};
`;

/** A built-in loaded on first use: commander needs child_process only for executable subcommands. */
const lazyBuiltin = (name) => `'use strict';
let loaded;
const load = () => (loaded ??= require('node:${name}'));
module.exports = new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });
`;

/**
 * undici calls `assert(condition)` on every request but never lets one fail; loading node:assert
 * costs the full CLI's start about 2 ms. This defers to the real assert only when a condition
 * fails, so a failure still throws the same AssertionError.
 */
const LAZY_ASSERT = `'use strict';
module.exports = function assert(...args) {
  if (!args[0]) require('node:assert')(...args);
};
`;

/**
 * chalk guesses a colour level when it loads (its vendored supports-color: node:os, node:tty
 * and with it node:net, ≈ 3 ms of `canary validate`), for its default instance. canary never
 * uses that instance (src/reporters/select.ts makes every chalk with the level it decided), so
 * the guess is "no colour" without looking. Not for dist/spinner.cjs: ora colours its spinner
 * with the default instance.
 */
const NO_COLOR_GUESS = `export default { stdout: false, stderr: false };
`;
const chalkNoGuess = {
  name: 'chalk-no-guess',
  setup(b) {
    b.onResolve({ filter: /^#supports-color$/ }, (args) =>
      args.importer.includes('/node_modules/chalk/')
        ? { path: 'chalk-no-guess', namespace: 'canary-chalk' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'canary-chalk' }, () => ({ contents: NO_COLOR_GUESS, loader: 'js' }));
  },
};

/**
 * simple-statistics' bundled build (dist/simple-statistics.mjs) is one module: importing any
 * function runs all of its top level, among it a 310-entry normal table computed on load
 * (≈ 1 ms of `canary validate`, which needs none of it). Its source entry (index.js) re-exports
 * one module per function, each free of side effects, so it is bundled instead and esbuild keeps
 * the functions src/ imports and what they use.
 */
const simpleStatistics = {
  name: 'simple-statistics-by-function',
  setup(b) {
    const pkg = `${root}node_modules/simple-statistics/`;
    b.onResolve({ filter: /^simple-statistics$/ }, () => ({ path: `${pkg}index.js`, sideEffects: false }));
    b.onResolve({ filter: /^\.\.?\// }, (args) =>
      args.importer.startsWith(pkg)
        ? { path: join(args.resolveDir, args.path), sideEffects: false }
        : undefined,
    );
  },
};

/**
 * cli-table3's `string-width` with a fast path for printable ASCII (scripts/string-width-ascii.cjs):
 * the same widths, without two regexes per measurement of every cell.
 */
const asciiWidth = {
  name: 'string-width-ascii',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, (args) =>
      args.importer.includes('/node_modules/cli-table3/')
        ? { path: `${root}scripts/string-width-ascii.cjs` }
        : undefined,
    );
  },
};

/** `@inquirer/prompts` re-exports every prompt; its editor prompt alone bundles iconv-lite (0.5 MB). */

const trim = {
  name: 'trim-dependencies',
  setup(b) {
    const virtual = (path, contents, resolveDir) => ({
      path,
      namespace: 'canary-trim',
      pluginData: { contents, resolveDir },
    });
    b.onResolve({ filter: /^undici$/ }, () => virtual('undici', UNDICI_SLIM, `${root}node_modules/undici`));
    b.onResolve({ filter: /socks5-proxy-agent(\.js)?$/ }, (args) =>
      args.importer.includes('/node_modules/undici/')
        ? virtual('undici-no-socks', NO_SOCKS, args.resolveDir)
        : undefined,
    );
    b.onResolve({ filter: /client-h2(\.js)?$/ }, (args) =>
      args.importer.includes('/node_modules/undici/')
        ? virtual('undici-no-h2', NO_H2, args.resolveDir)
        : undefined,
    );
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.importer.includes('/node_modules/commander/')
        ? virtual('lazy-child-process', lazyBuiltin('child_process'), args.resolveDir)
        : undefined,
    );
    b.onResolve({ filter: /^@inquirer\/prompts$/ }, (args) =>
      virtual(
        '@inquirer/prompts',
        [...promptsUsed].map((n) => `export { default as ${n} } from '@inquirer/${n}';`).join('\n'),
        args.resolveDir,
      ),
    );
    b.onResolve({ filter: /^(node:)?assert$/ }, (args) =>
      args.importer.includes('/node_modules/undici/')
        ? virtual('undici-lazy-assert', LAZY_ASSERT, args.resolveDir)
        : undefined,
    );
    // `await import('node:fs')` would stay an import() in a CommonJS bundle; make it a require.
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'dynamic-import'
        ? virtual(`dynamic-${args.path}`, `module.exports = require('${args.path}');`, args.resolveDir)
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'canary-trim' }, (args) => ({
      contents: args.pluginData.contents,
      resolveDir: args.pluginData.resolveDir,
      loader: 'js',
    }));
  },
};

/**
 * For a command bundle (lightBundles() in scripts/build-checks.mjs): every module src/cli.ts
 * (or src/program.ts, or src/control-program.ts) imports lazily for another command becomes a
 * module that throws, so the bundle carries the program and the commands it serves (one, or
 * several that load the same modules). bin/canary.cjs runs such a bundle only when
 * the first argument is its command, so commander never dispatches to the others; should it
 * ever, the user sees an internal error naming this plugin rather than a wrong answer.
 */
const onlyCommand = (bundle, commands) => ({
  name: `only-${bundle}`,
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind !== 'dynamic-import' || !/\/src\/(cli|program|control-program)\.ts$/.test(args.importer))
        return undefined;
      if (belongsToCommand(commands[0], args.path)) return undefined;
      return {
        path: `not-in-${bundle}:${args.path}`,
        namespace: 'canary-other-command',
        pluginData: { module: args.path },
      };
    });
    b.onLoad({ filter: /.*/, namespace: 'canary-other-command' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(
        `dist/${bundle}.cjs holds only ${commands.map((c) => `'canary ${c}'`).join(', ')}, not ${args.pluginData.module} (scripts/build.mjs onlyCommand)`,
      )});`,
      loader: 'js',
    }));
  },
});

/**
 * For a form's bundle (LIGHT_FORMS in scripts/build-checks.mjs): each module in `leaveOut`
 * becomes one that throws, wherever it is imported from. bin/canary.cjs runs the form only for
 * command lines that never reach those modules (`status --route R` never loads a plan).
 */
const leaveOut = (bundle, modules) => ({
  name: `leave-out-${bundle}`,
  setup(b) {
    const left = new Set(modules.map((m) => join(root, m)));
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const path = join(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      if (!left.has(path)) return undefined;
      // Named without its src/ folder, so the build's check of the form (checkLightInputs) does
      // not mistake the stub for the module.
      return { path: path.slice(`${root}src/`.length), namespace: 'canary-left-out' };
    });
    b.onLoad({ filter: /.*/, namespace: 'canary-left-out' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(
        `dist/${bundle}.cjs has no src/${args.path}: bin/canary.cjs runs it only for a command line of flags alone (scripts/build.mjs leaveOut)`,
      )});`,
      loader: 'js',
    }));
  },
});

await checkImports();
await rm(dist, { recursive: true, force: true });
const options = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  // Whitespace and syntax only: less to read and compile, while stack traces keep real names.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [chalkNoGuess, simpleStatistics, asciiWidth, trim],
};
// The report (`canary report`, `rollout --report`) draws its charts with Apache ECharts: its own
// bundle, dist/report.cjs, which the CLI requires from next to itself only when it makes a
// report, so ECharts never adds to any other command's start. The page's script (ECharts'
// browser runtime, for hover values) is built first and goes into the report bundle as text;
// dist/report-client.js is kept for running from source (src/report/client-script.ts).
const clientBuild = await build({
  entryPoints: ['src/report/client.ts'],
  bundle: true,
  format: 'iife',
  globalName: 'canaryCharts',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
});
const clientText = clientBuild.outputFiles[0].text;
await mkdir(dist, { recursive: true });
await writeFile(new URL('report-client.js', dist), clientText);
const reportParts = {
  name: 'report-parts',
  setup(b) {
    // In the report bundle: the browser script inline, not read from disk.
    b.onResolve({ filter: /\/client-script\.js$/ }, (args) =>
      args.importer.endsWith('src/report/render.ts')
        ? { path: 'client-script', namespace: 'canary-report' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'canary-report' }, () => ({
      contents: `export function clientScript() { return ${JSON.stringify(clientText)}; }`,
      loader: 'js',
    }));
  },
};
// ora (src/terminal/spinner-ora.ts, with its dependencies) is its own bundle too, dist/spinner.cjs,
// required from next to the running bundle only when a spinner is drawn (a person at a terminal
// waiting: src/terminal/spinner.ts), so neither the rollback nor any command's start carries it.
const spinnerEntry = {
  name: 'spinner-entry',
  setup(b) {
    b.onResolve({ filter: /^\.\/spinner-ora\.js$/ }, (args) =>
      args.importer.endsWith('src/terminal/spinner.ts')
        ? { path: 'spinner-ora', namespace: 'canary-spinner' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'canary-spinner' }, () => ({
      contents: "module.exports = require(require('node:path').join(__dirname, 'spinner.cjs'));",
      loader: 'js',
    }));
  },
};
const reportEntry = {
  name: 'report-entry',
  setup(b) {
    // In the CLI bundle: the report renderer is dist/report.cjs, required when first used.
    b.onResolve({ filter: /^\.\/render\.js$/ }, (args) =>
      !args.importer.endsWith('src/report/write.ts')
        ? undefined
        : { path: 'report-render', namespace: 'canary-report' },
    );
    b.onLoad({ filter: /.*/, namespace: 'canary-report' }, () => ({
      contents: "module.exports = require(require('node:path').join(__dirname, 'report.cjs'));",
      loader: 'js',
    }));
  },
};
// The whole CLI, and the fast entry bin/canary.cjs loads for `canary rollback`: the same rollback
// command without the other commands or commander, so an incident does not read, deserialise
// and initialise code it never runs.
const bundles = lightBundles();
/** Every command bundle, then every form's (LIGHT_FORMS): the commands each serves, what it leaves out. */
const lightSpecs = [
  ...Object.entries(bundles).map(([name, served]) => ({ name, served, left: [], entry: 'src/cli.ts' })),
  ...Object.entries(LIGHT_FORMS).map(([name, form]) => ({
    name,
    served: [form.command],
    left: form.leaveOut,
    entry: form.entry,
  })),
];
const lightNames = lightSpecs.map((spec) => spec.name);
const [cliBuild, rollbackBuild, , , ...lightBuilds] = await Promise.all([
  build({
    ...options,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.cjs',
    metafile: true,
    plugins: [reportEntry, spinnerEntry, chalkNoGuess, simpleStatistics, asciiWidth, trim],
  }),
  build({
    ...options,
    entryPoints: ['src/rollback-entry.ts'],
    outfile: 'dist/rollback.cjs',
    metafile: true,
    plugins: [spinnerEntry, chalkNoGuess, simpleStatistics, asciiWidth, trim],
  }),
  build({
    ...options,
    entryPoints: ['src/report/render.ts'],
    outfile: 'dist/report.cjs',
    plugins: [reportParts, chalkNoGuess, simpleStatistics, asciiWidth, trim],
  }),
  build({
    ...options,
    entryPoints: ['src/terminal/spinner-ora.ts'],
    outfile: 'dist/spinner.cjs',
    plugins: [simpleStatistics, trim],
  }),
  ...lightSpecs.map(({ name, served, left, entry }) =>
    build({
      ...options,
      entryPoints: [entry],
      outfile: `dist/${name}.cjs`,
      metafile: true,
      plugins: [
        onlyCommand(name, served),
        leaveOut(name, left),
        reportEntry,
        spinnerEntry,
        chalkNoGuess,
        simpleStatistics,
        asciiWidth,
        trim,
      ],
    }),
  ),
]);
checkRollbackInputs(Object.keys(rollbackBuild.metafile.inputs));
for (const [i, name] of lightNames.entries())
  checkLightInputs(name, Object.keys(lightBuilds[i]?.metafile.inputs ?? {}));
checkReportOutside('dist/cli.cjs', Object.keys(cliBuild.metafile.inputs));
checkReportOutside('dist/rollback.cjs', Object.keys(rollbackBuild.metafile.inputs));
for (const [i, name] of lightNames.entries())
  checkReportOutside(`dist/${name}.cjs`, Object.keys(lightBuilds[i]?.metafile.inputs ?? {}));
await writeFile(
  new URL('cli.js', dist),
  "export { main, reportError, run, positiveInt } from './cli.cjs';\n",
);
// The constant, read from the source rather than package.json (test/version.test.ts keeps them equal).
const VERSION = /VERSION\s*=\s*'([^']+)'/.exec(
  await readFile(new URL('../src/version.ts', import.meta.url), 'utf8'),
)?.[1];
if (!VERSION) throw new Error('could not read VERSION from src/version.ts');
/**
 * Reads a bundle once to check it (scripts/build-checks.mjs) and name its code caches: V8 checks
 * a cache only against the source's length, so the hash of the source goes into the cache's
 * file name.
 */
async function checkedHash(name) {
  const text = await readFile(new URL(name, dist), 'utf8');
  checkBundleText(`dist/${name}`, text);
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
const hash = await checkedHash('cli.cjs');
const rollbackHash = await checkedHash('rollback.cjs');
// The built program, run below for what it declares: the flags of LIGHT_FORMS' commands, the help
// pages, the plan's JSON Schema. Its output goes to these buffers.
const cli = createRequire(import.meta.url)(fileURLToPath(new URL('cli.cjs', dist)));
const capture = () => {
  const stream = {
    text: '',
    isTTY: false,
    write(s) {
      stream.text += s;
      return true;
    },
  };
  return stream;
};
const helpIo = (stdout, stderr) => ({
  stdout,
  stderr,
  // Help never reads stdin; a getter keeps the build from opening it.
  get stdin() {
    return process.stdin;
  },
  env: {},
  cwd: root,
  addSecret() {},
  redact: (text) => text,
});
/** Each command's bundle, for bin/canary.cjs (which runs it when argv[0] is the command's name). */
const commands = {};
for (const [name, served] of Object.entries(bundles)) {
  const own = { file: `${name}.cjs`, hash: await checkedHash(`${name}.cjs`) };
  for (const command of served) commands[command] = own;
}
// A form (LIGHT_FORMS) goes with its command's entry, with the flags that take a value as the
// program declares them (commander's own reading of src/command-table/), so the shim can tell
// a flag's value from a positional argument.
for (const [name, form] of Object.entries(LIGHT_FORMS)) {
  const declared = cli
    .commandTable(helpIo(capture(), capture()))
    .commands.find((c) => c.name() === form.command);
  if (!declared || !commands[form.command]) throw new Error(`LIGHT_FORMS: ${name} is for an unknown command`);
  const valueFlags = declared.options
    .filter((option) => option.required)
    .flatMap((option) => [option.short, option.long].filter(Boolean));
  commands[form.command] = {
    ...commands[form.command],
    [form.when]: { file: `${name}.cjs`, hash: await checkedHash(`${name}.cjs`), valueFlags },
  };
}
await writeFile(
  new URL('version.json', dist),
  `${JSON.stringify({ version: VERSION, hash, rollbackHash, commands })}\n`,
);

// Every help page, printed by the built program itself, keyed by its argv as JSON: bin/canary.cjs
// prints `canary --help` (and each command's) from here without loading the CLI. Help wraps at
// a fixed width (src/program.ts), so the page is the same on any terminal at least that wide.
const pages = {};
for (const argv of cli.helpRequests(helpIo(capture(), capture()))) {
  const [stdout, stderr] = [capture(), capture()];
  const code = await cli.main(argv, helpIo(stdout, stderr));
  if (code !== 0 || stderr.text !== '' || stdout.text === '') {
    throw new Error(`canary ${argv.join(' ')} did not print help (exit ${code}): ${stderr.text}`);
  }
  pages[JSON.stringify(argv)] = stdout.text;
}
await writeFile(new URL('help.json', dist), `${JSON.stringify({ width: cli.HELP_WIDTH, pages })}\n`);

// The plan's JSON Schema, as `canary schema` prints it: the package ships it, and the URL in
// `canary init`'s modeline (src/plan/schema-url.ts) points at this file of the published version.
{
  const [stdout, stderr] = [capture(), capture()];
  const code = await cli.main(['schema'], helpIo(stdout, stderr));
  if (code !== 0 || stderr.text !== '')
    throw new Error(`canary schema failed (exit ${code}): ${stderr.text}`);
  await writeFile(new URL('plan.schema.json', dist), stdout.text);
}
