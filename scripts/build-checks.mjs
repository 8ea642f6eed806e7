// The checks scripts/build.mjs makes before it writes dist/, apart so test/build/ can show that
// each one refuses what it should: a guard that never fires looks the same as one that works.
import { isBuiltin } from 'node:module';

/** What the trimmed packages in scripts/build.mjs export; src/ may import nothing else from them. */
export const ALLOWED_IMPORTS = {
  undici: ['Agent', 'Dispatcher', 'EnvHttpProxyAgent'],
  '@inquirer/prompts': [
    'select',
    'confirm',
    'input',
    'number',
    'password',
    'rawlist',
    'expand',
    'checkbox',
    'search',
  ],
};

/**
 * Checks one source file's imports of the trimmed packages: every use must be a named import
 * (static, or destructured from `await import()`) of an allowed name, and no subpath. Returns
 * the names imported per package, so the build bundles only the prompts src/ uses.
 */
export function checkImportText(file, text) {
  const used = {};
  for (const [pkg, allowed] of Object.entries(ALLOWED_IMPORTS)) {
    const quoted = `'${pkg}'`;
    if (!text.includes(quoted) && !text.includes(`'${pkg}/`)) continue;
    const named = [...text.matchAll(/\{([^{}]*)\}\s*(?:from\s*|=\s*await\s+import\(\s*)'([^']+)'/g)].filter(
      (m) => m[2] === pkg,
    );
    const names = named.flatMap((m) =>
      (m[1] ?? '')
        .split(',')
        .map(
          (n) =>
            n
              .trim()
              .replace(/^type\s+/, '')
              .split(/\s+as\s+|\s*:\s*/)[0],
        )
        .filter(Boolean),
    );
    const uses = text.split(quoted).length - 1;
    const extra = names.filter((n) => !allowed.includes(n));
    if (extra.length > 0 || uses !== named.length || text.includes(`'${pkg}/`)) {
      throw new Error(
        `${file} uses ${pkg} beyond { ${allowed.join(', ')} }, which scripts/build.mjs bundles in trimmed form: extend it there.`,
      );
    }
    used[pkg] = names;
  }
  return used;
}

/**
 * Commands that start with only what they need. Each gets a bundle of its own, dist/<name>.cjs,
 * built from src/cli.ts itself (the same program, flags, help and errors), in which every
 * module src/cli.ts imports lazily for another command is left out (see onlyCommand in
 * scripts/build.mjs); bin/canary.cjs runs it when the first argument is the command's name.
 * A command joins by its name here, as long as src/cli.ts loads it with
 * `await import('./commands/<name>.js')` (or the modules listed with it).
 */
export const LIGHT_COMMANDS = {
  validate: ['./commands/validate.js'],
  status: ['./commands/status.js'],
  history: ['./commands/history.js'],
  // The control commands (src/control-program.ts): a socket and the state folder, nothing else.
  promote: ['./commands/control.js'],
  pause: ['./commands/control.js'],
  resume: ['./commands/control.js'],
  abort: ['./commands/control.js'],
};

/**
 * The command bundles to build: commands that load the same modules share one bundle, named
 * after its first module (the four control commands are one `dist/control.cjs`, not four copies
 * of the same 90 kB). Returns bundle name → the commands it serves.
 */
export function lightBundles() {
  const bundles = {};
  for (const [command, modules] of Object.entries(LIGHT_COMMANDS)) {
    const name = /([^/]+)\.js$/.exec(modules[0] ?? '')?.[1] ?? command;
    const served = bundles[name] ?? [];
    if (served.length > 0 && LIGHT_COMMANDS[served[0]].join() !== modules.join()) {
      throw new Error(
        `LIGHT_COMMANDS: ${command} and ${served[0]} would share dist/${name}.cjs with other modules`,
      );
    }
    bundles[name] = [...served, command];
  }
  return bundles;
}

/**
 * Forms of a light command that need less than its bundle, each a bundle of its own: built from
 * `entry` without the modules in `leaveOut` (each replaced by one that throws, should it ever be
 * reached); the entry's `run(loadFullCli)` hands what it does not read to the command's bundle. bin/canary.cjs runs a form only for a command line of flags alone (`when:
 * 'flags-only'`): every argument after the command a flag, or the value of a flag the command
 * declares as taking one, so no positional argument, no plan file; or for every command line
 * of its command (`when: 'always'`), when its entry reads them all. `status --route R` reads no
 * plan: without the plan loader its bundle carries no YAML parser, plan schema or JSONPath.
 * `excludes` is what the build then refuses to find in it (checkLightInputs).
 */
export const LIGHT_FORMS = {
  'status-route': {
    command: 'status',
    when: 'flags-only',
    // Its own entry: the flags read with node:util's parseArgs, no commander; what that does not
    // take goes to the command's whole bundle (bin/canary.cjs hands its `main` over).
    entry: 'src/status-route-entry.ts',
    leaveOut: ['src/plan/load.ts'],
    excludes: [
      'node_modules/commander/',
      'node_modules/yaml/',
      'node_modules/jsonpath-plus/',
      'src/plan/load.ts',
      'src/plan/schema.ts',
      'src/plan/reader.ts',
      'src/plan/yaml-source.ts',
    ],
  },
  // Every `canary validate` (`when: 'always'`): its own entry, no commander; what its parseArgs
  // reader does not take (help, a mistyped flag) goes to validate's whole bundle.
  'validate-entry': {
    command: 'validate',
    when: 'always',
    entry: 'src/validate-entry.ts',
    leaveOut: [],
    excludes: ['node_modules/commander/'],
  },
};

/**
 * For the bundle of `command`: whether src/cli.ts's lazy import of `path` belongs to it. Only
 * the command's own modules do; anything else src/cli.ts loads lazily belongs to other commands.
 */
export function belongsToCommand(command, path) {
  return (LIGHT_COMMANDS[command] ?? []).includes(path);
}

/**
 * What no command bundle may carry: undici (a WebAssembly parser compiled on every start, and
 * V8 flags set before the bundle compiles; short commands talk through the socket transports),
 * and the emulator's server, simulation and Prometheus exposition (checking a scenario needs
 * only src/emulator/scenario.ts).
 */
export const LIGHT_EXCLUDES = [
  'node_modules/undici/',
  // A spinner is drawn from dist/spinner.cjs, loaded only then (src/terminal/spinner.ts).
  'node_modules/ora/',
  'node_modules/prom-client/',
  'src/emulator/server.ts',
  'src/emulator/simulation.ts',
];

/**
 * Refuses a command bundle (or a form's, LIGHT_FORMS) built from any of LIGHT_EXCLUDES, or of
 * the form's own excludes (esbuild's metafile inputs).
 */
export function checkLightInputs(bundle, inputs) {
  const form = LIGHT_FORMS[bundle]?.excludes ?? [];
  for (const input of inputs) {
    const banned = LIGHT_EXCLUDES.find((path) => input.includes(path));
    if (banned) {
      throw new Error(
        `dist/${bundle}.cjs includes ${input}: a short command's code must keep ${banned} out (scripts/build-checks.mjs LIGHT_EXCLUDES)`,
      );
    }
    const left = form.find((path) => input.includes(path));
    if (left) {
      throw new Error(
        `dist/${bundle}.cjs includes ${input}: this form of '${LIGHT_FORMS[bundle]?.command}' must keep ${left} out (scripts/build-checks.mjs LIGHT_FORMS)`,
      );
    }
  }
}

/**
 * What `canary rollback --route R --to TAG` must not carry: undici (a WebAssembly parser compiled
 * on every start; the rollback talks through src/relay/socket-transport.ts), zod (the relay's
 * answers are checked by the shape reader, src/shape/), commander (src/command-table/parse-args.ts reads the flags
 * with node:util's parseArgs),
 * prompts (the journal form goes to the full CLI at a terminal), YAML and the plan loader (the
 * plan form is handed to the full CLI). Each would bring back milliseconds that
 * docs/benchmarks.md accounts for.
 */
export const ROLLBACK_EXCLUDES = [
  'node_modules/undici/',
  'node_modules/ora/',
  'node_modules/zod/',
  'node_modules/yaml/',
  'node_modules/commander/',
  'node_modules/@inquirer/',
  'src/plan/load.ts',
  // Webhooks come only with a plan (src/commands/rollback-notify.ts, through the full CLI).
  'src/notify/',
  'src/commands/rollback-notify.ts',
];

/** Refuses a rollback bundle built from any of ROLLBACK_EXCLUDES (esbuild's metafile inputs). */
export function checkRollbackInputs(inputs) {
  for (const input of inputs) {
    const banned = ROLLBACK_EXCLUDES.find((path) => input.includes(path));
    if (banned) {
      throw new Error(
        `dist/rollback.cjs includes ${input}: keep ${banned} out of src/rollback-entry.ts's imports`,
      );
    }
  }
}

/** What only dist/report.cjs may carry: the charting library and the renderer that uses it. */
export const REPORT_ONLY = [
  'node_modules/echarts/',
  'node_modules/zrender/',
  'src/report/render.ts',
  'src/report/html.ts',
];

/**
 * Refuses a CLI or rollback bundle built with the report's charting library in it: it would be
 * read and compiled on every start of every command (esbuild's metafile inputs).
 */
export function checkReportOutside(bundle, inputs) {
  for (const input of inputs) {
    const banned = REPORT_ONLY.find((path) => input.includes(path));
    if (banned) {
      throw new Error(
        `${bundle} includes ${input}: import src/report/render.js only through \`await import()\`, which the build turns into dist/report.cjs`,
      );
    }
  }
}

/**
 * Checks a bundle's text. bin/canary.cjs hands the bundles its own require, which is right only
 * for Node's built-ins. One character beyond Latin-1 (esbuild escapes strings, not regex
 * literals) makes V8 hold a whole bundle as a two-byte string: twice the memory and slower to
 * read on every start.
 */
export function checkBundleText(file, text) {
  for (const [, specifier] of text.matchAll(/\brequire\("([^"]+)"\)/g)) {
    if (!specifier.startsWith('node:') && !isBuiltin(specifier))
      throw new Error(`${file} requires ${specifier}, which is not a built-in; bundle it`);
  }
  const at = text.search(/[\u0100-\uffff]/);
  if (at >= 0) {
    throw new Error(
      `${file} has a character beyond Latin-1 near ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}; escape it in src/`,
    );
  }
}
