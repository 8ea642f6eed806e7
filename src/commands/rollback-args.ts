/**
 * `canary rollback`'s flags, recognised without commander: building commander's program and
 * parsing with it cost an incident's rollback about 2 ms, and loading its code 1 to 2 more
 * (docs/benchmarks.md), so dist/rollback.cjs carries no commander at all. This accepts only a
 * plain, unambiguous spelling of the flags src/program.ts defines for `rollback`: the incident
 * form (--route and --to) and the journal form (neither, or --route alone). Everything else
 * (help, a plan file, a repeated or unknown flag, a value that starts with '-', `-ojson`)
 * returns undefined, and the full CLI parses it with commander as always, with its help and
 * its error messages. test/commands/rollback-args.test.ts holds the two to the same options
 * for every argv this accepts.
 */
import type { RollbackCommandOptions } from './rollback.js';

const VALUE_FLAGS = {
  '--route': 'route',
  '--to': 'to',
  '--relay-url': 'relayUrl',
  '--api-key-env': 'apiKeyEnv',
  '--api-key-file': 'apiKeyFile',
  '--state-dir': 'stateDir',
  '--message': 'message',
  '-m': 'message',
  '--output': 'output',
  '-o': 'output',
} as const;
const OUTPUTS: readonly string[] = ['auto', 'tty', 'plain', 'json'];

type ValueKey = (typeof VALUE_FLAGS)[keyof typeof VALUE_FLAGS];

/** The options commander would give `canary rollback` for `argv`, or undefined to let it parse. */
export function parseRollbackArgs(argv: readonly string[]): RollbackCommandOptions | undefined {
  if (argv[0] !== 'rollback') return undefined;
  const values: Partial<Record<ValueKey, string>> = {};
  let allowInsecureHttp = false;
  let noColor = false;
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--allow-insecure-http' && !allowInsecureHttp) {
      allowInsecureHttp = true;
      continue;
    }
    if (token === '--no-color' && !noColor) {
      noColor = true;
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const flag = eq > 0 ? token.slice(0, eq) : token;
    const key = Object.hasOwn(VALUE_FLAGS, flag) ? VALUE_FLAGS[flag as keyof typeof VALUE_FLAGS] : undefined;
    if (key === undefined || values[key] !== undefined) return undefined;
    const value = eq > 0 ? token.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    values[key] = value;
  }
  const { route, to, output = 'auto' } = values;
  if (!OUTPUTS.includes(output)) return undefined;
  return {
    plan: undefined,
    route,
    to,
    output: output as RollbackCommandOptions['output'],
    relayUrl: values.relayUrl,
    apiKeyEnv: values.apiKeyEnv ?? 'RELAY_API_KEY',
    apiKeyFile: values.apiKeyFile,
    allowInsecureHttp: allowInsecureHttp || undefined,
    stateDir: values.stateDir,
    message: values.message,
    color: !noColor,
  };
}
